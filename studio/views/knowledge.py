"""Knowledge: add documents to a collection, see each document's chunks, try a search."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from studio import ui

CHUNKS_PER_PAGE = 20

st.title("Knowledge")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")

collection = st.text_input("Collection", value="default").strip() or "default"
base = f"/knowledge/{quote(collection, safe='')}"
documents = ui.api_call(lambda: api.get(f"{base}/documents"))
if documents is None:
    st.stop()

uploads = st.file_uploader(
    "Add text documents (UTF-8 .txt or .md)", type=["txt", "md"], accept_multiple_files=True
)
if uploads and st.button("Add to collection", type="primary"):
    for f in uploads:
        try:
            text = f.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error(f"{f.name} is not UTF-8 text; convert it first.")
            continue
        doc = ui.api_call(
            lambda f=f, text=text: api.post(
                f"{base}/documents", json={"text": text, "title": f.name, "source": f.name}
            )
        )
        if doc is not None:
            st.success(f"{f.name}: document {doc['id']}, {doc['chunks']} chunk(s).")
    documents = ui.api_call(lambda: api.get(f"{base}/documents")) or []

st.subheader(f"Documents in {collection}")
if not documents:
    st.info("No documents in this collection yet.")
else:
    st.dataframe(
        [{k: d[k] for k in ("id", "title", "source", "chunks", "created_at")} for d in documents],
        hide_index=True,
    )
    titles = {d["id"]: f"{d['id']} · {d['title'] or d['source'] or 'untitled'}" for d in documents}
    chosen = st.selectbox("Document", list(titles), format_func=titles.__getitem__)
    if st.button("Delete document"):
        try:
            api.delete(f"{base}/documents/{chosen}")  # 204: no body
        except (ui.ApiError, ui.ApiUnavailable) as exc:
            st.error(str(exc))
        else:
            st.rerun()

    st.subheader("Chunks")
    st.caption("The pieces the document was split into: what a search can return.")
    filter_col, page_col = st.columns([4, 1])
    contains = filter_col.text_input("Only chunks containing").strip()
    page = page_col.number_input("Page", min_value=1, value=1)
    found = ui.api_call(
        lambda: api.get(
            f"/knowledge/documents/{chosen}/chunks",
            offset=(int(page) - 1) * CHUNKS_PER_PAGE,
            limit=CHUNKS_PER_PAGE,
            contains=contains or None,
        )
    )
    if found is not None:
        first = found["offset"] + 1
        last = found["offset"] + len(found["chunks"])
        st.caption(f"chunks {first}-{last} of {found['total']}" if found["chunks"] else "none")
        st.dataframe(
            [{k: c[k] for k in ("seq", "chars", "tokens", "text")} for c in found["chunks"]],
            hide_index=True,
        )

st.subheader("Search")
st.caption("The passages the agent's knowledge_search tool would get, best first.")
query_col, k_col = st.columns([4, 1])
query = query_col.text_input("Query")
top_k = k_col.number_input("Top k", min_value=1, max_value=50, value=3)
if query.strip():
    hits = ui.api_call(lambda: api.get(f"{base}/search", q=query.strip(), top_k=int(top_k)))
    # A result list: each passage as plain text (a passage's own "# Title" or "- item" is
    # what the document says, not markup of this page), numbered, best first.
    for rank, hit in enumerate(hits or [], 1):
        with st.container(border=True):
            st.markdown(f"**{rank}.** {ui.plain(hit['text'])}")
            st.caption(f"score {hit['score']:.3f} · {hit['source'] or 'no source'}")
    if hits == []:
        st.info("No passages found.")
