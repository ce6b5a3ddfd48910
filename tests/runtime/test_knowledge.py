"""The in-memory knowledge base (chat, conversation tests, studio): hybrid ranking, and the
reciprocal rank fusion both knowledge bases use."""

from __future__ import annotations

from runtime.knowledge import RRF_K, InMemoryKnowledgeBase, fuse

FAQ = [
    "Returns are free within 30 days of delivery.",
    "Our warranty covers parts and labour for two years.",
    "Standard delivery takes three to five working days.",
]


def test_fusion_adds_reciprocal_ranks_and_keeps_first_appearance_on_ties() -> None:
    fused = fuse([["a", "b"], ["b", "c"]])
    assert [k for k, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == 1 / (RRF_K + 2) + 1 / (RRF_K + 1)
    assert fuse([["x", "y"], ["y", "x"]])[0][0] == "x"
    assert fuse([]) == []


async def test_a_question_sharing_no_word_with_its_answer_is_found_by_meaning() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ})
    hits = await kb.search("faq", "is my toaster guaranteed if it breaks", 1)
    assert hits[0].text == FAQ[1]


async def test_word_ranking_alone_needs_a_shared_word() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ}, semantic=False)
    assert (await kb.search("faq", "standard delivery", 1))[0].text == FAQ[2]
    assert await kb.search("faq", "guarantee toaster", 3) == []


async def test_unknown_collections_blank_queries_and_added_passages() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ})
    assert await kb.search("nope", "returns", 3) == []
    assert await kb.search("faq", "   ", 3) == []
    await kb.search("faq", "returns", 3)  # vectors cached, then invalidated by add()
    kb.add("faq", "Gift cards are valid for two years.")
    assert (await kb.search("faq", "gift card validity", 1))[0].text.startswith("Gift cards")
