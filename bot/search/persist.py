"""The search index on disk: numpy arrays and a small JSON header in one `.npz` file.

The format is explicit and versioned (`FORMAT`): every field is named here, so renaming an
attribute of `SearchIndex` cannot silently change the file. Strings (paper ids, terms, typo
vocabulary) are stored as newline-joined UTF-8; counts that can be derived (document
frequencies, field length totals, the slot of each id) are recomputed on load. The file is
derived data: a missing, damaged or older one is ignored and the index is rebuilt.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bot.library.storage import atomic_write_bytes
from bot.search.aliases import AliasTable
from bot.search.index import FIELD_NAMES, SearchIndex

log = logging.getLogger(__name__)
FORMAT = 4


def _pack(words: Iterable[str | None]) -> np.ndarray:
    items = ["" if w is None else w for w in words]
    if any("\n" in w for w in items):
        raise ValueError("a stored string contains a newline")
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _unpack(blob: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    words = blob.tobytes().decode("utf-8").split("\n")
    if len(words) != count:
        raise ValueError(f"expected {count} strings, found {len(words)}")
    return words


def _json(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def save_index(path: Path, index: SearchIndex, catalog_state: dict[str, Any]) -> None:
    """Write `index` (compacted first) and the catalog state it reflects, atomically."""
    index.compact()
    alive, upvotes, dates = index.doc_arrays()
    terms = sorted(index._term_row, key=index._term_row.__getitem__)
    header = {
        "format": FORMAT,
        "documents": index.size,
        "terms": len(terms),
        "surfaces": len(index._surface_df),
        "surface_terms": len(index._surface_term),
        "term_surfaces": len(index._term_surface),
    }
    arrays = {
        "header": _json(header),
        "catalog": _json(catalog_state),
        "aliases": _json(index.aliases.definitions()),
        "ids": _pack(index.ids),
        "alive": alive,
        "upvotes": upvotes,
        "dates": dates,
        "lengths": np.asarray(index._lengths, dtype=np.int32).reshape(-1, len(FIELD_NAMES)),
        "terms": _pack(terms),
        "offsets": index._offsets,
        "post_slots": index._post_slots,
        "post_weights": index._post_weights,
        "surfaces": _pack(index._surface_df),
        "surface_df": np.fromiter(index._surface_df.values(), dtype=np.int64),
        "surface_term_keys": _pack(index._surface_term),
        "surface_term_values": _pack(index._surface_term.values()),
        "term_surface_keys": _pack(index._term_surface),
        "term_surface_values": _pack(index._term_surface.values()),
    }
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_index(path: Path) -> tuple[SearchIndex, dict[str, Any]] | None:
    """The saved index and its catalog state, or None when absent, damaged or of a different
    format (the caller rebuilds it)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes())
            if header.get("format") != FORMAT:
                return None
            return _restore(data, header), json.loads(data["catalog"].tobytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("the search index at %s is unreadable (%s); rebuilding it", path, error)
        return None


def _restore(data: Any, header: dict[str, Any]) -> SearchIndex:
    index = SearchIndex()
    count = header["documents"]
    ids = _unpack(data["ids"], count)
    alive = data["alive"].astype(bool)
    index.ids = list(ids)
    index._alive = alive.tolist()
    index._upvotes = data["upvotes"].tolist()
    index._dates = data["dates"].tolist()
    lengths = data["lengths"]
    index._lengths = [tuple(row) for row in lengths.tolist()]
    index.slots = {paper_id: slot for slot, paper_id in enumerate(ids) if alive[slot]}
    totals = lengths[alive].sum(axis=0) if count else np.zeros(len(FIELD_NAMES))
    index._length_totals = Counter(dict(zip(FIELD_NAMES, map(int, totals), strict=True)))
    terms = _unpack(data["terms"], header["terms"])
    index._term_row = {term: row for row, term in enumerate(terms)}
    index._offsets = data["offsets"].astype(np.int64)
    index._post_slots = data["post_slots"].astype(np.int32)
    index._post_weights = data["post_weights"].astype(np.float32)
    index._df = Counter(dict(zip(terms, np.diff(index._offsets).tolist(), strict=True)))
    surfaces = _unpack(data["surfaces"], header["surfaces"])
    index._surface_df = Counter(dict(zip(surfaces, data["surface_df"].tolist(), strict=True)))
    index._surface_term = dict(
        zip(
            _unpack(data["surface_term_keys"], header["surface_terms"]),
            _unpack(data["surface_term_values"], header["surface_terms"]),
            strict=True,
        )
    )
    index._term_surface = dict(
        zip(
            _unpack(data["term_surface_keys"], header["term_surfaces"]),
            _unpack(data["term_surface_values"], header["term_surfaces"]),
            strict=True,
        )
    )
    index.aliases = AliasTable.from_definitions(json.loads(data["aliases"].tobytes()))
    return index
