"""The in-memory knowledge base (chat, conversation tests, studio): hybrid ranking, and the
score fusion both knowledge bases use."""

from __future__ import annotations

from runtime.knowledge import InMemoryKnowledgeBase, fuse

FAQ = [
    "Returns are free within 30 days of delivery.",
    "Our warranty covers parts and labour for two years.",
    "Standard delivery takes three to five working days.",
]


def test_fusion_scales_each_ranking_to_its_own_range_then_adds_the_weighted_scores() -> None:
    meaning = {"a": 0.6, "b": 0.4, "c": 0.2}  # cosine similarities
    words = {"b": 7.0, "c": 1.0}  # ts_rank_cd values, another range entirely
    fused = dict(fuse([meaning, words], [1.0, 0.5]))
    assert fused == {"a": 1.0, "b": 0.5 + 0.5, "c": 0.0}
    assert [k for k, _ in fuse([meaning, words], [1.0, 0.5])][:2] == ["a", "b"]
    assert fuse([{"x": 0.3}], [1.0]) == [("x", 1.0)]
    assert fuse([]) == []


async def test_a_question_sharing_no_word_with_its_answer_is_found_by_meaning() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ})
    hits = await kb.search("faq", "is my toaster guaranteed if it breaks", 1)
    assert hits[0].text == FAQ[1]


async def test_word_ranking_alone_needs_a_shared_word() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ}, semantic=False)
    assert (await kb.search("faq", "how long does standard delivery take", 1))[0].text == FAQ[2]
    assert (await kb.search("faq", "refunds for returned items", 1))[0].text == FAQ[0]
    assert await kb.search("faq", "guarantee toaster", 3) == []


async def test_unknown_collections_blank_queries_and_added_passages() -> None:
    kb = InMemoryKnowledgeBase({"faq": FAQ})
    assert await kb.search("nope", "returns", 3) == []
    assert await kb.search("faq", "   ", 3) == []
    await kb.search("faq", "returns", 3)  # vectors cached, then invalidated by add()
    kb.add("faq", "Gift cards are valid for two years.")
    assert (await kb.search("faq", "gift card validity", 1))[0].text.startswith("Gift cards")
