"""Knowledge: upload documents to a collection, see their chunks, try a search."""

from __future__ import annotations

import streamlit as st

from studio import ui

st.title("Knowledge")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")

collections = ui.api_call(lambda: api.get("/knowledge/collections"))
if collections is None:
    st.stop()

names = [c["name"] for c in collections]
new_name = st.text_input("Collection", value=names[0] if names else "default")
collection = new_name.strip() or "default"

upload = st.file_uploader(
    "Upload documents", type=["txt", "md", "pdf", "html"], accept_multiple_files=True
)
if upload and st.button("Add to collection", type="primary"):
    for f in upload:
        doc = ui.api_call(
            lambda f=f: api.post(
                f"/knowledge/collections/{collection}/documents",
                files={"file": (f.name, f.getvalue(), f.type or "application/octet-stream")},
            )
        )
        if doc is not None:
            st.success(f"Added {f.name}: {doc.get('chunks', '?')} chunk(s).")

documents = ui.api_call(lambda: api.get(f"/knowledge/collections/{collection}/documents")) or []
st.subheader(f"Documents in {collection}")
if not documents:
    st.info("No documents yet.")
else:
    st.dataframe(documents, hide_index=True)
    titles = [d.get("title") or d.get("name") or str(d["id"]) for d in documents]
    chosen = st.selectbox("Show chunks of", titles)
    doc = documents[titles.index(chosen)]
    chunks = ui.api_call(lambda: api.get(f"/knowledge/documents/{doc['id']}/chunks")) or []
    for chunk in chunks:
        with st.expander(f"chunk {chunk.get('index', '?')}"):
            st.write(chunk.get("text", ""))

st.subheader("Search")
query = st.text_input("Query")
if query:
    hits = (
        ui.api_call(lambda: api.get(f"/knowledge/collections/{collection}/search", q=query)) or []
    )
    for hit in hits:
        st.markdown(f"**{hit.get('score', 0):.3f}** · {hit.get('document', '')}")
        st.write(hit.get("text", ""))
