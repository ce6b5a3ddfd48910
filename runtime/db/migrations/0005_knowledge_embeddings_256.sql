-- Knowledge embeddings become 256-dimensional, and chunks get a full-text search column.
--
-- The offline embedder is now the wordllama model shipped in its PyPI wheel (256 dimensions,
-- runtime/providers/local/model.py), and OpenAI embeddings are requested with dimensions=256,
-- so one column still serves both. Vectors of the former 384-dimension column cannot be
-- converted: they are cleared (the chunks, their text and the model that made them stay) and
-- `voxflow db reembed` embeds every chunk whose vector is missing or was made by another model.
-- A later change of model or dimension follows the same path: a migration, then a re-embed.

DROP INDEX IF EXISTS knowledge_chunks_embedding;
ALTER TABLE knowledge_chunks ALTER COLUMN embedding DROP NOT NULL;
ALTER TABLE knowledge_chunks ALTER COLUMN embedding TYPE vector(256) USING NULL;
CREATE INDEX knowledge_chunks_embedding ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);

-- Hybrid retrieval ranks chunks by meaning (the vector) and by words (PostgreSQL full-text
-- search, English stemming); runtime/db/knowledge.py fuses the two rankings.
ALTER TABLE knowledge_chunks
    ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED;
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
