-- Knowledge base: documents split into chunks with 384-dimension embeddings (pgvector).
-- Every embedder voxflow ships produces 384 dimensions (the offline model, and OpenAI
-- embeddings requested with dimensions=384), so one column serves both; the model that made a
-- chunk's vector is recorded and searches only compare vectors of the same model.

CREATE TABLE knowledge_documents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection   text NOT NULL,
    title        text NOT NULL DEFAULT '',
    source       text NOT NULL DEFAULT '',
    content_hash text NOT NULL,                   -- sha256 of the content: re-adding is a no-op
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection, content_hash)
);

CREATE TABLE knowledge_chunks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    collection  text NOT NULL,
    seq         integer NOT NULL,
    text        text NOT NULL,
    model       text NOT NULL,
    embedding   vector(384) NOT NULL,
    UNIQUE (document_id, seq)
);
CREATE INDEX knowledge_chunks_embedding ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_chunks_collection ON knowledge_chunks (collection, model);
