"""RESP encoding of a publish chunk, column-wise by Arrow, and sending it as one pipeline.

A chunk of predictions is one non-transactional pipeline: a SADD of its index keys to the
version's catalogue, one ZADD per index key, a SADD of its leagues, then a HSET per prediction
(records after their index entries, so a killed publisher leaves nothing the catalogue and the
kickoff index miss). The commands are built column by column by Arrow kernels instead of one
redis-py call per command, and sent as bytes on one pool connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import hiredis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import redis

from footcast.adapters.redis.layout import INDEXES, KICKOFF_INDEX, PREDICTION_FIELDS
from footcast.data import schema, teams


def send_pipelined(client: redis.Redis, packed: Sequence[bytes], replies: int) -> None:
    """Send RESP-encoded commands as one non-transactional pipeline and read their ``replies``.
    The first error reply is raised; the connection is then dropped, as the rest of its replies
    are unread."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(packed)
        for _ in range(replies):
            connection.read_response()
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def chunk_commands(
    chunk: pd.DataFrame, base: str, version: str, team_key: Callable[[str], str] = teams.team_key
) -> tuple[list[bytes], int]:
    """(RESP-encoded commands, number of replies) that store the predictions of ``chunk`` in
    ``version``, whose keys start with ``base``: one SADD of the chunk's index keys to the
    version's catalogue of them, one ZADD per index key, one SADD of the leagues, then a HSET per
    prediction.

    The texts are converted column by column and the commands encoded by Arrow kernels (which
    release the GIL): a publish of 100,000 predictions sends 3.6 million HSET arguments, on which
    redis-py's Pipeline spends microseconds of Python each and hiredis.pack_command a tenth of
    that. The bytes are those hiredis.pack_command gives. ``team_key`` is teams.team_key, or a
    cache of it shared by the chunks of a batch.
    """
    size = len(chunk)
    kickoff = _utc_kickoffs(chunk["kickoff"])
    columns = {field: _text_column(chunk[field]) for field in PREDICTION_FIELDS if field in chunk.columns}
    columns["kickoff"] = _text_column(kickoff)
    columns["publish_version"] = _repeated(version, size)
    match_ids = columns["match_id"]
    fields_and_values = [item for field in PREDICTION_FIELDS for item in (field, columns[field])]
    hsets = _resp_commands("HSET", _prefixed(f"{base}:match:", match_ids), *fields_and_values)
    index_keys = _index_keys(kickoff, columns, team_key)
    zadds, index_names = _zadd_commands(f"{base}:", index_keys, kickoff, match_ids)

    leagues = pc.unique(columns["league"]).to_pylist()
    add_leagues = hiredis.pack_command(("SADD", f"{base}:leagues", *leagues))
    add_indexes = hiredis.pack_command(("SADD", f"{base}:{INDEXES}", *index_names))
    # Catalogue and index entries before the records: Redis applies a connection's commands in
    # order, so every record a killed publisher left is found through the kickoff index, and
    # every index key through the catalogue (PredictionStore._version_keys).
    return [add_indexes, _data(zadds), add_leagues, _data(hsets)], 2 + len(index_names) + size


def _index_keys(
    kickoff: pd.Series, columns: dict[str, pa.Array], team_key: Callable[[str], str]
) -> list[pa.Array]:
    """Per index, the key (below the version) of every row of the chunk: its home team's, its
    away team's, its league on its UK-local date, the kickoff index."""
    local = kickoff.dt.tz_convert(schema.UK).dt.tz_localize(None).to_numpy()
    days = pa.array(np.datetime_as_string(local.astype("datetime64[D]"), unit="D"), pa.string())
    return [
        *(
            _prefixed("team:", _per_distinct(columns[side].to_numpy(zero_copy_only=False), team_key))
            for side in ("home_team", "away_team")
        ),
        pc.binary_join_element_wise("league:", columns["league"], ":", days, ""),
        _repeated(KICKOFF_INDEX, len(kickoff)),
    ]


def _zadd_commands(
    prefix: str, index_keys: list[pa.Array], kickoff: pd.Series, match_ids: pa.Array
) -> tuple[pa.Array, list[str]]:
    """(ZADD commands, the index keys they write) that add the match ids to their ``index_keys``
    (below ``prefix``), scored by kickoff epoch seconds.

    The (index key, score, match id) rows of the chunk sorted by key; the first row of each
    key's run carries the command header, so the rows joined are the commands."""
    seconds = (kickoff - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    keys = pa.concat_arrays(index_keys)
    order = pc.sort_indices(keys)
    keys = keys.take(order)
    scores = pa.concat_arrays([pa.array(list(map(repr, seconds.tolist())), pa.string())] * len(index_keys))
    scores = scores.take(order)
    members = pa.concat_arrays([match_ids] * len(index_keys)).take(order)
    new_key = np.ones(len(keys), dtype=bool)
    new_key[1:] = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(new_key)
    arity = np.zeros(len(keys), dtype=np.int64)
    arity[starts] = 2 + 2 * np.diff(np.append(starts, len(keys)))
    header = _join(
        ["*", pc.cast(pa.array(arity), pa.string()), "\r\n$4\r\nZADD\r\n"]
        + _bulk_strings(_prefixed(prefix, keys))
    )
    header = pc.if_else(pa.array(new_key), header, "")
    zadds = _join([header, *_bulk_strings(scores, members)])
    return zadds, keys.take(pa.array(starts)).to_pylist()


def _repeated(text: str, size: int) -> pa.Array:
    return pa.array(np.full(size, text, dtype=object), pa.string())


def _prefixed(prefix: str, texts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(prefix, texts, "")


def _bulk_strings(*args: str | pa.Array) -> list[str | pa.Array]:
    """Pieces of the RESP bulk strings of ``args`` (a str: the same in every row)."""
    pieces: list[str | pa.Array] = []
    for arg in args:
        if isinstance(arg, str):
            pieces.append(f"${len(arg.encode())}\r\n{arg}\r\n")
        else:
            pieces += ["$", pc.cast(pc.binary_length(arg), pa.string()), "\r\n", arg, "\r\n"]
    return pieces


def _join(pieces: list[str | pa.Array]) -> pa.Array:
    """Row-wise concatenation of ``pieces`` (a str: the same in every row)."""
    merged: list[str | pa.Array] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return pc.binary_join_element_wise(*merged, "")


def _resp_commands(*args: str | pa.Array) -> pa.Array:
    """One RESP-encoded command per row (as hiredis.pack_command encodes it) of ``args``."""
    return _join([f"*{len(args)}\r\n", *_bulk_strings(*args)])


def _data(texts: pa.Array) -> bytes:
    """The UTF-8 bytes of ``texts`` one after another."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
    start, end = offsets[texts.offset], offsets[texts.offset + len(texts)]
    return texts.buffers()[2].to_pybytes()[start:end]


def _text_column(column: pd.Series) -> pa.Array:
    """The text Redis stores (``_to_text``) of every value of ``column``. The common column
    types are converted in one pass; anything else once per distinct value."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
        to_text = repr if column.dtype.kind == "f" else str  # repr of a float, also "nan"
        return pa.array(list(map(to_text, column.to_numpy().tolist())), pa.string())
    if pd.api.types.infer_dtype(column, skipna=False) == "string" and not column.hasnans:
        return pa.array(column, pa.string())
    if isinstance(column.dtype, pd.DatetimeTZDtype) and str(column.dtype.tz) == "UTC":
        naive = column.dt.tz_localize(None).to_numpy()
        seconds = naive.astype("datetime64[s]")
        if (naive == seconds).all():  # no NaT, no fraction of a second: as isoformat prints them
            texts = pa.array(np.datetime_as_string(seconds, unit="s"), pa.string())
            return pc.binary_join_element_wise(texts, "+00:00", "")
    return _per_distinct(column.to_numpy(dtype=object), _to_text)


def _per_distinct(values: np.ndarray, convert: Callable[[Any], str]) -> pa.Array:
    """``convert`` of every value, computed once per distinct value (missing ones one by one)."""
    codes, distinct = pd.factorize(values)
    texts = np.array([*map(convert, distinct.tolist()), ""], dtype=object)[codes]
    missing = codes == -1  # None, NaN, NaT: pandas does not factorize them
    if missing.any():
        texts[missing] = [convert(value) for value in values[missing].tolist()]
    return pa.array(texts, pa.string())


def _utc_kickoffs(column: pd.Series) -> pd.Series:
    """Kickoffs as tz-aware UTC timestamps; naive ones are taken as UTC."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return column.dt.tz_localize("UTC")
    stamps = [pd.Timestamp(value) for value in column]
    return pd.Series(
        [s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC") for s in stamps],
        index=column.index,
        dtype="datetime64[ns, UTC]",
    )


def _to_text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)
