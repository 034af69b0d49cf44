"""Datasets pickled as plans (issue 13 point 4): Python functions travel by value with
cloudpickle, in-memory data by Arrow IPC, and the copy runs to the same result, also in
another process."""

import pickle
import subprocess
import sys

import pyarrow as pa
import pytest

import sluice as sl


def pipeline():
    offset = 10  # a closure over a local: cloudpickle takes it by value

    def add_offset(batch):
        return batch.set_column(0, "id", pa.compute.add(batch["id"], offset))

    table = pa.table({"id": [3, 1, 2, 5]},
                     schema=pa.schema([pa.field("id", pa.int64(), nullable=False)]))
    ds = (sl.from_arrow(table).union(sl.range(4))
          .map_batches(add_offset, batch_format="pyarrow")
          .map_batches(lambda b: b.filter(pa.compute.greater(b["id"], 11)),
                       batch_format="pyarrow")
          .filter(sl.col("id") % 2 == 1)
          .sort("id", descending=True))
    return ds


def test_a_pickled_dataset_runs_the_same_here_and_in_another_process(tmp_path):
    ds = pipeline()
    expected = ds.to_arrow()
    assert expected["id"].to_pylist() == [15, 13, 13]
    copy = pickle.loads(pickle.dumps(ds))
    assert copy.to_arrow().equals(expected)
    # Optimized plans too (the two map_batches fuse into one chained function).
    from sluice.dataset import _from_plan_bytes
    fused = _from_plan_bytes(ds._ds.serialize_plan(optimize=True))
    assert "->" in fused.explain_string()
    assert fused.to_arrow().equals(expected)
    # In a process that never saw the functions' source.
    path = tmp_path / "plan.pickle"
    path.write_bytes(pickle.dumps(ds))
    script = ("import pickle, sys; ds = pickle.loads(open(sys.argv[1], 'rb').read()); "
              "print(ds.to_arrow()['id'].to_pylist())")
    ran = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[15, 13, 13]"


def test_file_sources_pickle_as_their_listed_files(tmp_path):
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "t.parquet")
    (tmp_path / "t.csv").write_text("x,y\n1,a\n2,b\n")
    ds = (sl.read_parquet(str(tmp_path / "t.parquet")).filter(sl.col("x") > 1)
          .join(sl.read_csv(str(tmp_path / "t.csv")), on="x"))
    expected = ds.to_arrow()
    assert expected.num_rows == 1
    copy = pickle.loads(pickle.dumps(ds))
    assert copy.to_arrow().equals(expected)
    # The copy reads the files listed when the dataset was made, not a new listing.
    pq.write_table(pa.table({"x": [2]}), tmp_path / "u.parquet")
    assert pickle.loads(pickle.dumps(sl.read_parquet(str(tmp_path / "*.parquet")))).count() == 4
    assert pickle.loads(pickle.dumps(sl.read_parquet(str(tmp_path / "t.parquet")))).count() == 3


def test_what_cannot_be_pickled_says_so(tmp_path):
    import threading
    lock = threading.Lock()  # not picklable: the function's error, with the function
    with pytest.raises(Exception, match="lock"):
        pickle.dumps(sl.range(3).map_batches(lambda b, l=lock: b, batch_format="pyarrow"))
    with pytest.raises(sl.SluiceError, match="serialized plan"):
        sl.dataset._from_plan_bytes(b'{"sluice_plan": 1, "node": "teleport", "inputs": []}')
