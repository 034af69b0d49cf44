"""Symbolic links in directories Sluice reads and writes (issue 12, points 1 and 2).

Writes never reach outside their target: nothing is deleted, adopted or published through
a link below it, and an overwrite refuses content Sluice did not write unless
replace_foreign_files=True. Listings are loop-safe: cycles are entered once, a file
reached twice is read once, and a link out of the directory read is an error unless
follow_symlinks=True.

Reads that hung before the fix run in a child process with a timeout, so that a
regression fails the test instead of hanging the suite."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice.errors import SluiceIOError
from test_cli import inspect_fields

CLI = Path(sys.executable).parent / "sluice"
CHILD_TIMEOUT_S = 60


def table(rows=3, start=0):
    return pa.table({"id": pa.array(range(start, start + rows), pa.int64())})


def files_below(root):
    """Every regular file below `root` (links not followed), relative, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                out.append(str(path.relative_to(root)))
    return sorted(out)


def visible_names(directory):
    """What a listing shows (the commit lock stays by design: a hidden name)."""
    return sorted(n for n in os.listdir(directory) if not n.startswith(("_", ".")))


def outside_dir(tmp_path, name="outside"):
    """A directory beside the target holding a few files, one of them Sluice-named and
    one a Parquet file, the things a careless clean-up would delete."""
    outside = tmp_path / name
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    pq.write_table(table(2), outside / "data.parquet")
    pq.write_table(table(2),
                   outside / "part-00000-000-0f0e0d0c-0b0a-4908-8706-050403020100.parquet")
    return outside


def run_child(code, tmp_path):
    """Runs `code` in a fresh interpreter (cwd `tmp_path`); returns its JSON output."""
    script = "import json, sys\nimport sluice as sl\n" + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=CHILD_TIMEOUT_S, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def sluice_cli(*args):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S)


# ------------------------------------------------------------------ writes (point 1)

def test_overwrite_never_deletes_through_a_link_out_of_the_target(tmp_path):
    outside = outside_dir(tmp_path)
    before = files_below(outside)
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    os.symlink("../outside", target / "link")

    with pytest.raises(SluiceIOError, match=r"link \(symbolic link\).*replace_foreign_files"):
        sl.from_arrow(table(5)).write_parquet(target, mode="overwrite")
    assert files_below(outside) == before
    assert sl.read_parquet(target).count() == 3  # refused before anything was published

    sl.from_arrow(table(5)).write_parquet(target, mode="overwrite", replace_foreign_files=True)
    assert files_below(outside) == before
    assert not os.path.lexists(target / "link")  # the link itself went, nothing behind it
    assert sl.read_parquet(target).count() == 5


def test_overwrite_of_a_directory_without_manifest_checks_before_adopting(tmp_path):
    outside = outside_dir(tmp_path)
    before = files_below(outside)
    target = tmp_path / "target"
    target.mkdir()
    pq.write_table(table(4), target / "handmade.parquet")
    os.symlink("../outside", target / "link")

    with pytest.raises(SluiceIOError) as error:
        sl.from_arrow(table(5)).write_parquet(target, mode="overwrite")
    assert "handmade.parquet" in str(error.value) and "link" in str(error.value)
    # Adoption did not run: foreign files were not made to look committed.
    assert not (target / "_SUCCESS").exists()
    assert visible_names(target) == ["handmade.parquet", "link"]
    assert files_below(outside) == before

    sl.from_arrow(table(5)).write_parquet(target, mode="overwrite", replace_foreign_files=True)
    assert files_below(outside) == before
    assert not (target / "handmade.parquet").exists() and not os.path.lexists(target / "link")
    assert sl.read_parquet(target).to_arrow().column("id").to_pylist() == list(range(5))


def test_append_to_a_directory_without_manifest_holding_a_link_is_refused(tmp_path):
    outside = outside_dir(tmp_path)
    before = files_below(outside)
    target = tmp_path / "target"
    target.mkdir()
    pq.write_table(table(4), target / "handmade.parquet")
    os.symlink("../outside", target / "link")
    with pytest.raises(SluiceIOError, match="symbolic links.*link"):
        sl.from_arrow(table(5)).write_parquet(target, mode="append")
    assert files_below(outside) == before
    assert visible_names(target) == ["handmade.parquet", "link"]


def test_publishing_into_a_symlinked_partition_directory_is_refused(tmp_path):
    elsewhere = outside_dir(tmp_path, "elsewhere")
    before = files_below(elsewhere)
    target = tmp_path / "target"
    data = pa.table({"p": [1, 1, 2], "id": [1, 2, 3]})
    sl.from_arrow(data).write_parquet(target, partition_cols=["p"])
    # The user swaps the partition directory for a link.
    os.rename(target / "p=1", tmp_path / "old_p1")
    os.symlink("../elsewhere", target / "p=1")

    new = pa.table({"p": [1], "id": [9]})
    for mode, extra in [("overwrite_partitions", {}),
                        ("overwrite_partitions", {"replace_foreign_files": True}),
                        ("append", {}), ("overwrite", {"replace_foreign_files": True})]:
        with pytest.raises(SluiceIOError, match=r"'p=1' is a symbolic link"):
            sl.from_arrow(new).write_parquet(target, partition_cols=["p"], mode=mode, **extra)
        assert files_below(elsewhere) == before, mode
    assert os.path.islink(target / "p=1")
    assert files_below(target / "p=2") != []


def test_overwrite_partitions_leaves_links_in_other_partitions_alone(tmp_path):
    elsewhere = outside_dir(tmp_path, "elsewhere")
    before = files_below(elsewhere)
    target = tmp_path / "target"
    sl.from_arrow(pa.table({"p": [1, 2], "id": [1, 2]})).write_parquet(target,
                                                                       partition_cols=["p"])
    os.symlink("../elsewhere", target / "p=3")
    sl.from_arrow(pa.table({"p": [1], "id": [7]})).write_parquet(
        target, partition_cols=["p"], mode="overwrite_partitions")
    assert os.path.islink(target / "p=3")
    assert files_below(elsewhere) == before
    got = sl.read_parquet(target).to_arrow().sort_by("id")
    assert got.column("id").to_pylist() == [2, 7]  # the manifest lists no path through p=3


def test_overwrite_refuses_foreign_files_naming_the_first_few(tmp_path):
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    for i in range(7):
        (target / f"note{i}.txt").write_text("mine")
    with pytest.raises(SluiceIOError) as error:
        sl.from_arrow(table(5)).write_parquet(target, mode="overwrite")
    message = str(error.value)
    assert "7 entries" in message and "note0.txt" in message and "and 2 more" in message
    assert "replace_foreign_files=True" in message
    assert len([n for n in os.listdir(target) if n.startswith("note")]) == 7
    assert sl.read_parquet(target).count() == 3

    sl.from_arrow(table(5)).write_csv(target, mode="overwrite", replace_foreign_files=True)
    assert not [n for n in os.listdir(target) if n.startswith("note")]
    assert sl.read_csv(target).count() == 5


def test_files_adopted_by_an_append_stay_foreign_to_a_later_overwrite(tmp_path):
    # A directory another tool wrote, with a user's notes: an append adopts everything
    # into the manifest, which must not make the notes deletable by a plain overwrite.
    target = tmp_path / "target"
    target.mkdir()
    pq.write_table(table(2), target / "spark-part-0000.parquet")
    (target / "notes.txt").write_text("mine")
    sl.from_arrow(table(3)).write_parquet(target, mode="append")
    assert "notes.txt" in (target / "_SUCCESS").read_text()  # adopted
    with pytest.raises(SluiceIOError, match=r"notes\.txt.*spark-part-0000\.parquet|"
                                            r"spark-part-0000\.parquet.*notes\.txt"):
        sl.from_arrow(table(5)).write_parquet(target, mode="overwrite")
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "spark-part-0000.parquet").exists()
    sl.from_arrow(table(5)).write_parquet(target, mode="overwrite", replace_foreign_files=True)
    assert sorted(os.listdir(target)) == sorted(
        n for n in os.listdir(target) if n.startswith(("part-", "_")))
    assert sl.read_parquet(target).count() == 5


def test_overwrite_partitions_checks_only_the_partitions_it_replaces(tmp_path):
    target = tmp_path / "target"
    sl.from_arrow(pa.table({"p": [1, 2], "id": [1, 2]})).write_json(target, partition_cols=["p"])
    (target / "p=1" / "readme.md").write_text("foreign")
    (target / "p=2" / "readme.md").write_text("foreign")
    with pytest.raises(SluiceIOError, match=r"p=1/readme\.md"):
        sl.from_arrow(pa.table({"p": [1], "id": [5]})).write_json(
            target, partition_cols=["p"], mode="overwrite_partitions")
    # p=2 is not replaced: its foreign file neither blocks the write nor is deleted.
    sl.from_arrow(pa.table({"p": [1], "id": [5]})).write_json(
        target, partition_cols=["p"], mode="overwrite_partitions", replace_foreign_files=True)
    assert not (target / "p=1" / "readme.md").exists()
    assert (target / "p=2" / "readme.md").read_text() == "foreign"


def test_overwrite_needs_no_option_for_what_sluice_wrote(tmp_path):
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    # An orphan of a failed write: Sluice-named, in no manifest.
    orphan = target / "part-00003-000-0f0e0d0c-0b0a-4908-8706-050403020100.parquet"
    pq.write_table(table(1), orphan)
    (target / "_notes").write_text("hidden names are ignored")
    sl.from_arrow(table(5)).write_parquet(target, mode="overwrite")
    assert not orphan.exists() and (target / "_notes").exists()
    assert sl.read_parquet(target).count() == 5


def test_a_manifest_path_through_a_linked_directory_is_not_deleted(tmp_path):
    target = tmp_path / "target"
    sl.from_arrow(pa.table({"p": [1, 2], "id": [1, 2]})).write_parquet(target,
                                                                       partition_cols=["p"])
    # The committed p=1 directory is moved away and linked back: the manifest's p=1/...
    # path now leads through the link.
    os.rename(target / "p=1", tmp_path / "moved")
    os.symlink("../moved", target / "p=1")
    before = files_below(tmp_path / "moved")
    assert before
    sl.from_arrow(table(4)).write_parquet(target, mode="overwrite", replace_foreign_files=True)
    assert files_below(tmp_path / "moved") == before
    assert not os.path.lexists(target / "p=1")
    assert sl.read_parquet(target).count() == 4


def test_the_target_itself_may_be_a_link(tmp_path):
    real = tmp_path / "real"
    sl.from_arrow(table(3)).write_parquet(real)
    os.symlink("real", tmp_path / "alias")
    sl.from_arrow(table(6)).write_parquet(tmp_path / "alias", mode="overwrite")
    assert sl.read_parquet(real).count() == 6
    assert sl.vacuum(tmp_path / "alias")["removed_files"] == []


def test_vacuum_never_deletes_through_a_link(tmp_path):
    other = tmp_path / "other"
    sl.from_arrow(table(3)).write_parquet(other)
    before = files_below(other)
    target = tmp_path / "target"
    sl.from_arrow(table(2)).write_parquet(target)
    # other's Sluice-named files are in no manifest of target: orphans, if followed.
    os.symlink("../other", target / "link")
    os.symlink("../other", target / "_sluice_staging_0f0e0d0c-0b0a-4908-8706-050403020100.1.1.1.h")
    report = sl.vacuum(target)
    assert report["removed_files"] == [] and report["removed_staging_dirs"] == []
    assert files_below(other) == before
    assert os.path.islink(target / "link")


def test_a_link_planted_as_the_commit_lock_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    os.unlink(target / "_sluice_commit.lock")
    os.symlink("../outside/victim", target / "_sluice_commit.lock")
    with pytest.raises(SluiceIOError, match="commit lock"):
        sl.from_arrow(table(3)).write_parquet(target, mode="append")
    assert not (outside / "victim").exists()


def test_an_unsafe_manifest_path_is_refused_not_deleted(tmp_path):
    outside = outside_dir(tmp_path)
    before = files_below(outside)
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    manifest = json.loads((target / "_SUCCESS").read_text())
    manifest["files"].append({"path": "../outside/keep.txt", "rows": 1, "bytes": 8})
    (target / "_SUCCESS").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match=r"\.\./outside/keep\.txt"):
        sl.from_arrow(table(5)).write_parquet(target, mode="overwrite",
                                              replace_foreign_files=True)
    assert files_below(outside) == before


def test_an_unsafe_manifest_key_on_s3_is_refused(s3_server, s3_bucket):
    fs = s3_server.filesystem()
    bucket = s3_bucket[len("s3://"):]
    with fs.open_output_stream(f"{bucket}/outside/keep.txt") as out:
        out.write(b"precious")
    sl.from_arrow(table(3)).write_parquet(f"{s3_bucket}/t")
    with fs.open_input_stream(f"{bucket}/t/_SUCCESS") as source:
        manifest = json.loads(source.read())
    manifest["files"].append({"path": "../outside/keep.txt", "rows": 1, "bytes": 8})
    with fs.open_output_stream(f"{bucket}/t/_SUCCESS") as out:
        out.write(json.dumps(manifest).encode())
    with pytest.raises(Exception, match=r"\.\./outside/keep\.txt"):
        sl.from_arrow(table(5)).write_parquet(f"{s3_bucket}/t", mode="overwrite",
                                              replace_foreign_files=True)
    with fs.open_input_stream(f"{bucket}/outside/keep.txt") as source:
        assert source.read() == b"precious"


def test_cli_convert_replace_foreign_files(tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(table(4), source)
    target = tmp_path / "out"
    sl.from_arrow(table(3)).write_parquet(target)
    (target / "notes.txt").write_text("foreign")
    refused = sluice_cli("convert", source, target, "--to", "parquet", "--mode", "overwrite")
    assert refused.returncode != 0 and "notes.txt" in refused.stderr
    assert "--replace-foreign-files" in refused.stderr
    done = sluice_cli("convert", source, target, "--to", "parquet", "--mode", "overwrite",
                      "--replace-foreign-files")
    assert done.returncode == 0, done.stderr
    assert not (target / "notes.txt").exists() and sl.read_parquet(target).count() == 4


# ------------------------------------------------------------------ listing (point 2)

def three_rows(directory):
    """`directory` with 3 rows as Parquet, CSV, JSON lines and text files (one each)."""
    directory.mkdir()
    (directory / "pq").mkdir()
    pq.write_table(table(3), directory / "pq" / "a.parquet")
    (directory / "csv").mkdir()
    pa_csv.write_csv(table(3), directory / "csv" / "a.csv")
    (directory / "json").mkdir()
    (directory / "json" / "a.jsonl").write_text("".join(f'{{"id": {i}}}\n' for i in range(3)))
    (directory / "text").mkdir()
    (directory / "text" / "a.txt").write_text("x\ny\nz\n")
    return directory


COUNT_EVERY_FORMAT = """
d = sys.argv[1] if len(sys.argv) > 1 else "d"
print(json.dumps({
    "parquet": sl.read_parquet(d + "/pq").count(),
    "parquet_rows": sl.read_parquet(d + "/pq").to_arrow().num_rows,
    "glob": sl.read_parquet(d + "/pq/**/*.parquet").count(),
    "csv": sl.read_csv(d + "/csv").count(),
    "json": sl.read_json(d + "/json").count(),
    "text": sl.read_text(d + "/text").count(),
}))
"""


def test_two_symlink_loops_neither_hang_nor_duplicate(tmp_path):
    d = three_rows(tmp_path / "d")
    for sub in ("pq", "csv", "json", "text"):
        os.symlink(".", d / sub / "a")
        os.symlink(".", d / sub / "b")
    counts = run_child(COUNT_EVERY_FORMAT, tmp_path)
    assert counts == {"parquet": 3, "parquet_rows": 3, "glob": 3, "csv": 3, "json": 3,
                      "text": 3}


def test_one_loop_does_not_multiply_rows(tmp_path):
    d = three_rows(tmp_path / "d")
    for sub in ("pq", "csv", "json", "text"):
        os.symlink(".", d / sub / "loop")
    assert sl.read_parquet(d / "pq").count() == 3
    assert sl.read_parquet(d / "pq").to_arrow().num_rows == 3
    assert sl.read_csv(d / "csv").to_arrow().num_rows == 3
    assert sl.read_json(d / "json").count() == 3
    assert sl.read_text(d / "text").count() == 3


def test_a_link_out_of_the_directory_is_an_error_unless_followed(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    pq.write_table(table(3), d / "a.parquet")
    pq.write_table(table(5, start=100), tmp_path / "sibling.parquet")
    os.symlink("..", d / "up")
    with pytest.raises(SluiceIOError, match=r"up' is a symbolic link.*follow_symlinks=True"):
        sl.read_parquet(d).count()
    with pytest.raises(SluiceIOError, match="follow_symlinks"):
        sl.read_parquet(f"{d}/*").count()
    # A glob that cannot reach through the link is not disturbed by it.
    assert sl.read_parquet(f"{d}/*.parquet").count() == 3
    # Followed: the sibling is read once, and d itself (reached again via up/d) once.
    got = sl.read_parquet(d, follow_symlinks=True).to_arrow().column("id").to_pylist()
    assert sorted(got) == [0, 1, 2, 100, 101, 102, 103, 104]


def test_a_file_link_out_of_the_directory_is_an_error_too(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    pq.write_table(table(3), d / "a.parquet")
    pq.write_table(table(5), tmp_path / "secret.parquet")
    os.symlink("../secret.parquet", d / "b.parquet")
    with pytest.raises(SluiceIOError, match="b.parquet' is a symbolic link"):
        sl.read_parquet(d).count()
    assert sl.read_parquet(d, follow_symlinks=True).count() == 8
    # Named explicitly, a link is the user's choice.
    assert sl.read_parquet(d / "b.parquet").count() == 5


def test_links_inside_the_directory_are_followed_and_read_once(tmp_path):
    d = tmp_path / "d"
    (d / "data").mkdir(parents=True)
    pq.write_table(table(3), d / "data" / "a.parquet")
    os.symlink("data", d / "alias")                    # a second way to the same files
    os.symlink("data/a.parquet", d / "b.parquet")      # the same file under another name
    (d / "_raw").mkdir()
    pq.write_table(table(2, start=10), d / "_raw" / "x.parquet")
    os.symlink("_raw", d / "visible")                  # a hidden directory, linked in
    got = sl.read_parquet(d, partitioning=None).to_arrow().column("id").to_pylist()
    assert sorted(got) == [0, 1, 2, 10, 11]
    os.symlink("missing", d / "dangling")              # nothing to read: skipped
    assert sl.read_parquet(d).count() == 5


def test_crawl_registers_no_loop_partitions(tmp_path, catalog_file):
    root = tmp_path / "events"
    sl.from_arrow(pa.table({"p": [1, 1, 2], "id": [1, 2, 3]})).write_parquet(
        root, partition_cols=["p"])
    os.remove(root / "_SUCCESS")  # crawl lists the directory, as for other tools' data
    os.symlink(".", root / "loop")
    os.symlink(".", root / "p=1" / "again")
    result = run_child(f"""
        sl.configure(catalog={str(catalog_file)!r})
        r = sl.catalog.crawl("events", "db.events")
        print(json.dumps(sorted(r["added_partitions"])))
    """, tmp_path)
    assert result == ["p=1", "p=2"]
    assert sl.read_table("db.events").count() == 3


def test_crawl_refuses_a_link_out_of_the_path_unless_followed(tmp_path, catalog_file):
    root = tmp_path / "events"
    (root / "p=1").mkdir(parents=True)
    pq.write_table(table(3), root / "p=1" / "a.parquet")
    (tmp_path / "elsewhere").mkdir()
    pq.write_table(table(2), tmp_path / "elsewhere" / "b.parquet")
    os.symlink("../elsewhere", root / "p=2")
    with pytest.raises(SluiceIOError, match="p=2' is a symbolic link"):
        sl.catalog.crawl(root, "db.events")
    result = sl.catalog.crawl(root, "db.events", follow_symlinks=True)
    assert sorted(result["added_partitions"]) == ["p=1", "p=2"]
    assert sl.read_table("db.events").count() == 5


def test_vacuum_on_loops_finishes(tmp_path):
    target = tmp_path / "target"
    sl.from_arrow(table(3)).write_parquet(target)
    os.symlink(".", target / "a")
    os.symlink(".", target / "b")
    report = run_child("""
        r = sl.vacuum("target")
        print(json.dumps(r["removed_files"]))
    """, tmp_path)
    assert report == []
    assert sl.read_parquet(target).count() == 3


def test_cli_inspect_and_vacuum_on_loops(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    pq.write_table(table(3), d / "a.parquet")
    os.symlink(".", d / "a")
    os.symlink(".", d / "b")
    inspected = sluice_cli("inspect", d)
    assert inspected.returncode == 0, inspected.stderr
    fields, _ = inspect_fields(inspected.stdout)
    assert fields["rows"] == "3" and fields["files"] == "1"
    vacuumed = sluice_cli("vacuum", d)
    assert vacuumed.returncode == 0, vacuumed.stderr
    up = tmp_path / "u"
    up.mkdir()
    pq.write_table(table(3), up / "a.parquet")
    os.symlink("..", up / "up")
    refused = sluice_cli("inspect", up)
    assert refused.returncode != 0 and "--follow-symlinks" in refused.stderr
    followed = sluice_cli("inspect", up, "--follow-symlinks")
    assert followed.returncode == 0, followed.stderr
