"""Papers into the library: files (`importer`) and Hugging Face Daily Papers days (`fetch`).

Ingest writes the catalog only; whoever runs it refreshes the search index afterwards (the
index is derived data, a layer above).
"""
