"""core.Ids: ids kept as one byte array and offsets behave as a sequence of the strings."""
import pickle

import numpy as np

from curadebt.core.ids import Ids


def test_ids_index_iterate_take_concat_and_pickle():
    raw = ["doc-1", "", "é\u4e2d", "x" * 300, "corpus.jsonl:17", "\ud800"]  # a lone surrogate survives too
    ids = Ids.of(raw)
    assert len(ids) == len(raw) and list(ids) == raw and [ids[i] for i in range(-1, 5)] == [raw[-1]] + raw[:5]
    assert ids.take(np.array([4, 0, 4])).tolist() == [raw[4], raw[0], raw[4]]
    assert ids[1:4].tolist() == raw[1:4]
    assert Ids.concat([ids, Ids.of(["z"]), Ids()]).tolist() == raw + ["z"]
    assert pickle.loads(pickle.dumps(ids)) == ids and ids == raw
    assert ids.nbytes < sum(len(s) for s in raw) + 8 * (len(raw) + 1) + 16


def test_ids_are_smaller_than_a_list_of_strings():
    import sys

    strings = [f"doc-{i}" for i in range(100_000)]
    as_list = sys.getsizeof(strings) + sum(sys.getsizeof(s) for s in strings)
    assert Ids.of(strings).nbytes * 3 < as_list  # 17 bytes an id here, against about 66
