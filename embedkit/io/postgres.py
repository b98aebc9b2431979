"""PostgreSQL + pgvector: ``emb.export("postgresql://user@host/db", table="items")``.

Needs psycopg 3 and pgvector-python (``pip install 'embedkit[postgres]'``) and a
server with the pgvector extension (created when missing and allowed).

What :func:`write` makes, in ONE transaction:

1. a staging table ``<table>_ek_new (key text, embedding vector(dim), metadata jsonb)``
   (``metadata`` only when given), loaded with binary ``COPY`` (psycopg's
   ``copy.set_types`` + ``write_row``; vectors in pgvector's binary format through its
   psycopg adapter);
2. its primary key on ``key`` (added after the load: faster than checking each row;
   a duplicate key — ``1`` and ``"1"`` are the same text — fails here);
3. its index: ``hnsw`` (default; ``m``, ``ef_construction``) or ``ivfflat`` (``nlist``, pgvector's ``lists``),
   with the metric's operator class (``cosine`` -> ``vector_cosine_ops`` / ``<=>``,
   ``l2`` -> ``vector_l2_ops`` / ``<->``, ``dot`` -> ``vector_ip_ops`` / ``<#>``), or none;
4. the old ``<table>`` dropped and the staging table renamed to it, with its key
   constraint and index renamed to ``<table>_pkey`` / ``<table>_embedding_idx``;
5. a table comment holding JSON: the key type (so integer keys come back as
   integers), the metric, the index and the embeddings' metadata.

Readers see the old table until the commit and the new one after; if any step
fails the transaction rolls back and the old table is exactly as it was.

Query it::

    SET hnsw.ef_search = 100;   -- pgvector's default is 40
    SELECT key, embedding <=> '[0.1, 0.2, ...]' AS distance FROM items ORDER BY 2 LIMIT 10;

:func:`read` gives the rows back as :class:`~embedkit.Embeddings` (bit-identical
float32), in the table's physical order: the load order for a table embedkit wrote
and nobody has updated since (synchronized scans are switched off for the read).
"""
from __future__ import annotations

import json
import logging
import math
import time

import numpy as np

from .._validation import Param, validate
from .._version import __version__
from ..embeddings import Embeddings
from ..exceptions import DatabaseError, EmptyInputError, InputFormatError, InvalidParameterError
from ._rows import METRICS, float32_rows, key_type, metadata_rows, restore_keys

logger = logging.getLogger("embedkit")

#: metric -> (pgvector operator class, distance operator)
OPCLASSES = {"cosine": ("vector_cosine_ops", "<=>"), "l2": ("vector_l2_ops", "<->"), "dot": ("vector_ip_ops", "<#>")}
#: pgvector 0.6: the vector type holds up to 16,000 dimensions, its indexes up to 2,000
MAX_DIM, MAX_INDEXED_DIM = 16000, 2000
STAGING_SUFFIX = "_ek_new"
KEY_COLUMNS, VECTOR_COLUMNS = ("key", "id"), ("embedding", "vector")

PARAMS = (
    Param("table", str, "embeddings", "table name (schema.table allowed)"),
    Param("metric", str, "cosine", "distance the index serves", choices=METRICS),
    Param("index", str, "hnsw", "index built after the load: hnsw, ivfflat or none",
          choices=("hnsw", "ivfflat", "none")),
    Param("m", int, 16, "HNSW links per node (pgvector's default)", low=2, high=100),
    Param("ef_construction", int, 64, "HNSW candidate list while building (pgvector's default; >= 2 m)",
          low=4, high=1000),
    Param("nlist", int, None, "IVFFlat cells (pgvector's lists) [default: rows/1000 up to 1M rows, sqrt(rows) above: pgvector's "
          "advice]", low=1, high=32768, nullable=True),
    Param("maintenance_work_mem", str, None, "memory for building the index in this transaction, e.g. '1GB' "
          "(SET LOCAL) [default: the server's]", nullable=True),
)


def _modules():
    from .._optional import require

    psycopg = require("psycopg", "exporting to PostgreSQL")
    pgv = require("pgvector.psycopg", "exporting to PostgreSQL")
    return psycopg, pgv.register_vector


def _parts(table: str) -> tuple[str, ...]:
    parts = tuple(table.split("."))
    if not table or len(parts) > 2 or not all(parts):
        raise InvalidParameterError("postgresql", "table", "a table name or schema.table", table)
    if len(parts[-1].encode()) + len(STAGING_SUFFIX) + len("_embedding_idx") > 63:
        raise InvalidParameterError("postgresql", "table", "a name of at most 36 bytes (PostgreSQL cuts names at "
                                    "63 and embedkit adds _ek_new_embedding_idx while loading)", table)
    return parts


def _problem(exc: BaseException, url: str) -> str:
    """The database's first line (and hint), with the URL's password removed if it appears."""
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc)).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    hint = getattr(diag, "message_hint", None)
    if hint:
        msg += f" (hint: {hint})"
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return msg.replace(password, "***") if password else msg


def default_lists(n: int) -> int:
    """pgvector's advice for IVFFlat: rows / 1000 up to 1M rows, sqrt(rows) above (at least 1)."""
    return max(1, n // 1000) if n <= 1_000_000 else int(math.sqrt(n))


def write(emb, url: str, *, metadata=None, **params) -> None:
    """Write ``emb`` into the table ``table`` of the database at ``url`` (see the module
    docstring). ``metadata``: None, a mapping key -> JSON-able value or one value per row,
    stored as ``jsonb``. Other options: :data:`PARAMS`. Replaces an existing table of that
    name in one transaction."""
    from .targets import mask_url

    p = validate("postgresql export", PARAMS, params)
    target = mask_url(url)
    parts = _parts(p["table"])
    if p["index"] == "hnsw" and p["ef_construction"] < 2 * p["m"]:
        raise InvalidParameterError("postgresql", "ef_construction", f">= 2 * m = {2 * p['m']} (pgvector's rule)",
                                    p["ef_construction"])
    if emb.dim > MAX_DIM:
        raise InvalidParameterError("postgresql", "dim", f"at most {MAX_DIM} (pgvector's vector type)", emb.dim)
    if p["index"] != "none" and emb.dim > MAX_INDEXED_DIM:
        raise InvalidParameterError("postgresql", "index", f"'none' for {emb.dim} dimensions", p["index"],
                                    hint=f"pgvector indexes vectors of at most {MAX_INDEXED_DIM} dimensions")
    x = float32_rows(emb, "pgvector")
    meta = metadata_rows(emb, metadata)
    psycopg, register_vector = _modules()
    start = time.perf_counter()
    try:
        with psycopg.connect(url) as conn:  # one transaction: committed on leaving, rolled back on an error
            _replace(conn, psycopg, register_vector, emb, x, meta, parts, p)
    except psycopg.Error as exc:
        raise DatabaseError(target, p["table"], _problem(exc, url)) from None
    took = time.perf_counter() - start
    logger.info("%s: table %s holds %d x %d vectors (%s index, %s) in %.1fs (%.0f rows/s with the index)",
                target, p["table"], len(emb), emb.dim, p["index"], p["metric"], took, len(emb) / max(took, 1e-9))


def _replace(conn, psycopg, register_vector, emb, x: np.ndarray, meta, parts, p) -> None:
    from psycopg import sql
    from psycopg.types.json import set_json_dumps

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
        conn.execute("CREATE EXTENSION vector")
    register_vector(conn)
    cur = conn.cursor()  # after register_vector: a cursor copies the connection's adapters
    schema = parts[:-1]
    name = parts[-1]
    staging = name + STAGING_SUFFIX
    final_t, staging_t = sql.Identifier(*parts), sql.Identifier(*schema, staging)
    columns = [sql.SQL("key text NOT NULL"), sql.SQL("embedding vector({}) NOT NULL").format(sql.Literal(emb.dim))]
    names, types = ["key", "embedding"], ["text", "vector"]
    if meta is not None:
        columns.append(sql.SQL("metadata jsonb"))
        names.append("metadata")
        types.append("jsonb")
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging_t))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(staging_t, sql.SQL(", ").join(columns)))
    load_start = time.perf_counter()
    keys = [str(k) for k in emb.keys]
    set_json_dumps(lambda text: text, context=cur)  # metadata_rows already wrote the JSON
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        staging_t, sql.SQL(", ").join(map(sql.Identifier, names)))
    with cur.copy(copy_sql) as copy:
        copy.set_types(types)
        if meta is None:
            for key, row in zip(keys, x):
                copy.write_row((key, row))
        else:
            for key, row, m in zip(keys, x, meta):
                copy.write_row((key, row, m))
    logger.info("COPY of %d rows: %.1fs", len(keys), time.perf_counter() - load_start)
    cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (key)").format(
        staging_t, sql.Identifier(staging + "_pkey")))
    if p["maintenance_work_mem"]:
        cur.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(p["maintenance_work_mem"])))
    opclass = sql.Identifier(OPCLASSES[p["metric"]][0])
    if p["index"] == "hnsw":
        cur.execute(sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding {}) WITH (m = {}, ef_construction = {})")
                    .format(sql.Identifier(staging + "_embedding_idx"), staging_t, opclass,
                            sql.Literal(p["m"]), sql.Literal(p["ef_construction"])))
    elif p["index"] == "ivfflat":
        lists = p["nlist"] or default_lists(len(keys))
        p = dict(p, nlist=lists)
        cur.execute(sql.SQL("CREATE INDEX {} ON {} USING ivfflat (embedding {}) WITH (lists = {})")
                    .format(sql.Identifier(staging + "_embedding_idx"), staging_t, opclass, sql.Literal(lists)))
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(final_t))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(staging_t, sql.Identifier(name)))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
        final_t, sql.Identifier(staging + "_pkey"), sql.Identifier(name + "_pkey")))
    if p["index"] != "none":
        cur.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier(*schema, staging + "_embedding_idx"), sql.Identifier(name + "_embedding_idx")))
    note = {"embedkit": {"version": __version__, "key_type": key_type(emb.keys), "dim": emb.dim,
                         "metric": p["metric"], "index": p["index"],
                         "index_params": {k: p[k] for k in ("m", "ef_construction") if p["index"] == "hnsw"} |
                         ({"nlist": p["nlist"]} if p["index"] == "ivfflat" else {}),
                         "meta": emb.meta}}
    cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(final_t, sql.Literal(json.dumps(note, default=str))))


def _pick(columns: list[str], choices: tuple[str, ...], wanted: str | None, what: str, target: str, table: str):
    if wanted is not None:
        if wanted not in columns:
            raise DatabaseError(target, table, f"no column {wanted!r} (columns: {', '.join(columns)})")
        return wanted
    for c in choices:
        if c in columns:
            return c
    raise DatabaseError(target, table, f"no {what} column: expected one of {', '.join(choices)} "
                        f"(columns: {', '.join(columns)}); name it with {what}_column=")


def read(url: str, *, table: str = "embeddings", limit: int | None = None, key_column: str | None = None,
         vector_column: str | None = None):
    """The keys and vectors of ``table`` as :class:`~embedkit.Embeddings` (float32, bit-identical
    to what was written). Tables embedkit did not write load too: the key column may be
    ``key`` or ``id`` (any type, read as text), the vector column ``embedding`` or ``vector``
    (pgvector ``vector``). ``limit``: the first that many rows."""
    from psycopg import sql

    from .targets import mask_url

    psycopg, register_vector = _modules()
    target = mask_url(url)
    parts = tuple(table.split("."))
    try:
        with psycopg.connect(url) as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # count and rows from one snapshot
            oid = conn.execute("SELECT to_regclass(%s)::oid", (sql.Identifier(*parts).as_string(conn),)).fetchone()[0]
            if oid is None:
                raise DatabaseError(target, table, "no such table")
            try:
                register_vector(conn)
            except psycopg.ProgrammingError:
                raise DatabaseError(target, table, "the pgvector extension is not installed in this database") \
                    from None
            cur = conn.cursor()
            cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
                        "ORDER BY attnum", (oid,))
            columns = [r[0] for r in cur.fetchall()]
            kcol = _pick(columns, KEY_COLUMNS, key_column, "key", target, table)
            vcol = _pick(columns, VECTOR_COLUMNS, vector_column, "vector", target, table)
            cur.execute("SELECT obj_description(%s, 'pg_class')", (oid,))
            note = _note(cur.fetchone()[0])
            cur.execute("SET LOCAL synchronize_seqscans = off")  # rows in physical order, from the first
            cut = sql.SQL("") if limit is None else sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
            src = sql.SQL("SELECT {}::text, {} FROM {}{}").format(
                sql.Identifier(kcol), sql.Identifier(vcol), sql.Identifier(*parts), cut)
            cur.execute(sql.SQL("SELECT count(*) FROM ({}) AS t").format(src))
            n = cur.fetchone()[0]
            keys: list = []
            vectors = None
            with cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(src)) as copy:
                copy.set_types(["text", "vector"])
                for key, vec in copy.rows():
                    if vec is None:
                        raise DatabaseError(target, table, f"key {key!r} has no vector (NULL)")
                    row = vec.to_numpy() if hasattr(vec, "to_numpy") else np.asarray(vec, dtype=np.float32)
                    if vectors is None:
                        vectors = np.empty((n, row.shape[0]), dtype=np.float32)
                    elif row.shape[0] != vectors.shape[1]:
                        raise DatabaseError(target, table, f"key {key!r} has {row.shape[0]} numbers, the first "
                                            f"row {vectors.shape[1]}")
                    if len(keys) >= n:
                        raise DatabaseError(target, table, "the table changed while it was read")
                    vectors[len(keys)] = row
                    keys.append(key)
    except psycopg.Error as exc:
        raise DatabaseError(target, table, _problem(exc, url)) from None
    if not keys:
        raise EmptyInputError(f"{target}, table {table!r}: no rows")
    if any(k is None for k in keys):
        raise DatabaseError(target, table, f"row {keys.index(None)} has no key (NULL)")
    info = note.get("embedkit", {}) if isinstance(note, dict) else {}
    meta = dict(info.get("meta") or {})
    meta.update(source=f"{target} table {table}", format="postgresql")
    if info.get("metric"):
        meta["pgvector_metric"] = info["metric"]
    try:
        keys = restore_keys(keys, info.get("key_type"))
    except ValueError:
        raise InputFormatError(f"{target}, table {table!r}: the comment says integer keys, but a key is not one") \
            from None
    return Embeddings(keys, vectors[:len(keys)], meta)


def _note(text: str | None) -> dict:
    if not text:
        return {}
    try:
        note = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return note if isinstance(note, dict) else {}
