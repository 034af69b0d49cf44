"""The `sluice` command-line tool, run as a user would: the executable installed next to
the interpreter, inputs written with pyarrow, outputs checked with pyarrow."""

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_ds
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

CLI = Path(sys.executable).parent / "sluice"
COMMANDS = ["run", "inspect", "head", "convert"]


def sluice(*args, env=None, cwd=None):
    """Runs the CLI and returns the finished process (text output)."""
    assert CLI.exists(), f"{CLI} is missing; `make build` installs it"
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def assert_clean_failure(result, expected_code=None):
    """A failure the user can act on: an error message, no crash or stack trace."""
    assert result.returncode > 0, result  # negative: killed by a signal
    if expected_code is not None:
        assert result.returncode == expected_code, result.stderr
    assert "error:" in result.stderr
    for crash_sign in ("Traceback", "terminate called", "Aborted", "Segmentation"):
        assert crash_sign not in result.stderr


def sample_table(rows=100):
    return pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "name": [f"name-{i}" for i in range(rows)],
        "score": [None if i % 4 == 0 else i * 0.5 for i in range(rows)],
        "year": [2020 + i % 3 for i in range(rows)],
    })


def parse_table(output):
    """The rows of `sluice head` output as lists of cells (header and rule dropped)."""
    lines = output.rstrip("\n").split("\n")
    assert set(lines[1].replace(" ", "")) == {"-"}, lines[1]
    return [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]


def inspect_fields(output):
    """`label: value` lines and the schema section of `sluice inspect` output."""
    fields, schema, section = {}, {}, None
    for line in output.splitlines():
        if not line.startswith(" "):
            label, _, value = line.partition(":")
            fields[label] = value.strip()
            section = label
        elif section == "schema":
            name, _, type_text = line.strip().partition(": ")
            schema[name] = type_text.replace("(partition)", "").strip()
    return fields, schema


def write_tsv_gz(path, table):
    with gzip.open(path, "wb") as out:
        pa_csv.write_csv(table, out, pa_csv.WriteOptions(delimiter="\t"))


# ---- help and usage ----------------------------------------------------------------


def test_top_level_help_and_version():
    result = sluice("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    assert "--memory-limit" in result.stdout and "--threads" in result.stdout
    version = sluice("--version")
    assert version.returncode == 0
    assert re.match(r"sluice \d+\.\d+\.\d+", version.stdout)
    import sluice as sl
    assert version.stdout.split()[1] == sl.__version__  # one version, from pyproject.toml


@pytest.mark.parametrize("command,options", [
    ("run", ["JOB", "--memory-limit", "--threads"]),
    ("inspect", ["PATH", "--format", "--count", "--delimiter", "--memory-limit", "--threads"]),
    ("head", ["PATH", "-n", "--rows", "--format", "--delimiter", "--on-bad-lines",
              "--encoding-errors", "--threads"]),
    ("convert", ["INPUT", "OUTPUT", "--to", "--from", "--partition-by", "--mode",
                 "--compression", "--delimiter", "--max-rows-per-file", "--memory-limit"]),
])
def test_command_help_mentions_its_options(command, options):
    result = sluice(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: sluice {command}")
    for option in options:
        assert option in result.stdout


def test_unknown_command_and_option_print_usage():
    unknown_command = sluice("frobnicate")
    assert_clean_failure(unknown_command, 2)
    assert "frobnicate" in unknown_command.stderr and "usage:" in unknown_command.stderr

    unknown_option = sluice("head", "--no-such-option", "x.parquet")
    assert_clean_failure(unknown_option, 2)
    assert "--no-such-option" in unknown_option.stderr and "usage:" in unknown_option.stderr

    missing_argument = sluice("convert", "only-one-path")
    assert_clean_failure(missing_argument, 2)
    bare = sluice()
    assert bare.returncode == 2 and "usage:" in bare.stderr


def test_bad_engine_options(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(sample_table(), path)
    assert_clean_failure(sluice("head", path, "--threads", "-1"), 2)
    assert_clean_failure(sluice("head", path, "--memory-limit", "lots"), 2)
    bad_env = sluice("head", path, env={"SLUICE_NUM_THREADS": "many"})
    assert_clean_failure(bad_env, 1)
    assert "SLUICE_NUM_THREADS" in bad_env.stderr
    # Good values work before or after the command name.
    assert sluice("--threads", "2", "head", path, "--memory-limit", "256MB").returncode == 0


# ---- inspect -----------------------------------------------------------------------


def test_inspect_hive_partitioned_parquet(tmp_path):
    root = tmp_path / "events"
    pa_ds.write_dataset(sample_table(300), root, format="parquet", partitioning=["year"],
                        partitioning_flavor="hive")
    expected = pa_ds.dataset(root, format="parquet", partitioning="hive")

    result = sluice("inspect", root)
    assert result.returncode == 0, result.stderr
    fields, schema = inspect_fields(result.stdout)
    assert fields["format"] == "parquet"
    assert int(fields["rows"]) == expected.count_rows() == 300
    assert int(fields["files"]) == len(expected.files) == 3
    assert fields["partitions"] == "year"
    assert schema == {field.name: str(field.type) for field in expected.schema}
    for year in (2020, 2021, 2022):
        assert f"year={year}" in result.stdout


def test_inspect_lists_only_the_first_files(tmp_path):
    for i in range(25):
        pq.write_table(sample_table(10), tmp_path / f"part-{i:02d}.parquet")
    result = sluice("inspect", tmp_path)
    assert result.returncode == 0, result.stderr
    fields, _ = inspect_fields(result.stdout)
    assert fields["files"] == "25" and fields["rows"] == "250"
    assert result.stdout.count(".parquet\n") == 20
    assert "... 5 more" in result.stdout


def test_inspect_csv_counts_only_on_request(tmp_path):
    pa_csv.write_csv(sample_table(42), tmp_path / "t.csv")
    plain = sluice("inspect", tmp_path / "t.csv")
    assert plain.returncode == 0, plain.stderr
    fields, schema = inspect_fields(plain.stdout)
    assert fields["format"] == "csv" and "not counted" in fields["rows"]
    assert list(schema) == ["id", "name", "score", "year"]
    counted = sluice("inspect", tmp_path / "t.csv", "--count")
    assert inspect_fields(counted.stdout)[0]["rows"] == "42"


# ---- head --------------------------------------------------------------------------


def test_head_prints_the_first_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(sample_table(), path)
    result = sluice("head", path, "-n", "3")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["id", "name", "score", "year"]
    assert parse_table(result.stdout) == [
        ["0", "name-0", "null", "2020"],
        ["1", "name-1", "0.5", "2021"],
        ["2", "name-2", "1.0", "2022"],
    ]


def test_head_truncates_long_values_and_reads_tsv(tmp_path):
    long_text = "x" * 100
    table = pa.table({"k": [1, 2], "text": [long_text, "short\nline"]})
    write_tsv_gz(tmp_path / "t.tsv.gz", table)
    result = sluice("head", tmp_path / "t.tsv.gz")
    assert result.returncode == 0, result.stderr
    rows = parse_table(result.stdout)
    assert rows[0][1] == "x" * 39 + "\u2026"
    assert rows[1][1] == "short\\nline"  # a line break would break the table


# ---- convert -----------------------------------------------------------------------


def test_convert_tsv_gz_folder_to_json_lines(tmp_path):
    source = tmp_path / "tsv"
    source.mkdir()
    table = sample_table(300)
    for i in range(3):
        write_tsv_gz(source / f"part-{i}.tsv.gz", table.slice(i * 100, 100))
    output = tmp_path / "out" / "json"

    result = sluice("convert", source, output, "--to", "json", "--delimiter", "\\t")
    assert result.returncode == 0, result.stderr
    assert "300 rows" in result.stdout

    written = sorted(output.glob("*.json"))
    assert written
    actual = pa.concat_tables(pa_json.read_json(path) for path in written)
    expected = pa.concat_tables(
        pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter="\t"))
        for path in sorted(source.iterdir()))
    assert actual.sort_by("id").to_pylist() == expected.sort_by("id").to_pylist()


def test_convert_partition_by_writes_hive_directories(tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(sample_table(90), source)
    output = tmp_path / "by_year.parquet"

    result = sluice("convert", source, output, "--partition-by", "year")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in output.iterdir() if p.is_dir()) == [
        "year=2020", "year=2021", "year=2022"]
    back = pa_ds.dataset(output, format="parquet", partitioning="hive").to_table()
    assert sorted(zip(back["id"].to_pylist(), back["year"].to_pylist())) == [
        (i, 2020 + i % 3) for i in range(90)]

    refused = sluice("convert", source, output, "--partition-by", "year")
    assert_clean_failure(refused, 1)
    overwritten = sluice("convert", source, output, "--to", "parquet", "--mode", "overwrite")
    assert overwritten.returncode == 0, overwritten.stderr


def test_convert_needs_an_output_format(tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(sample_table(5), source)
    result = sluice("convert", source, tmp_path / "out")
    assert_clean_failure(result, 2)
    assert "--to" in result.stderr
    assert_clean_failure(sluice("convert", source, tmp_path / "o", "--to", "xml"), 2)
    assert_clean_failure(sluice("convert", source, tmp_path / "o.csv", "--mode", "never"), 2)


# ---- run ---------------------------------------------------------------------------


def test_run_passes_job_arguments(tmp_path):
    job = tmp_path / "job.py"
    job.write_text("import json\nimport sluice as sl\nprint(json.dumps(sl.job_args()))\n")
    tricky = 'say "hi" \\ to\nall'
    result = sluice("run", "--threads", "2", job, "--input", "data/", "--output-dir", "out",
                    "--dry-run", "--note", tricky)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "input": "data/", "output_dir": "out", "dry_run": "true", "note": tricky}


def test_run_passes_exit_code_through(tmp_path):
    job = tmp_path / "fail.py"
    job.write_text("import sys\nprint('partial output')\nsys.exit(3)\n")
    result = sluice("run", job)
    assert result.returncode == 3
    assert "partial output" in result.stdout


def test_run_missing_job_file(tmp_path):
    missing = tmp_path / "no_such_job.py"
    result = sluice("run", missing)
    assert_clean_failure(result, 1)
    assert str(missing) in result.stderr


# ---- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["inspect", "head", "convert"])
def test_missing_path_names_the_path(tmp_path, command):
    missing = tmp_path / "nowhere.parquet"
    extra = [tmp_path / "out.json"] if command == "convert" else []
    result = sluice(command, missing, *extra)
    assert_clean_failure(result, 1)
    assert "nowhere.parquet" in result.stderr


@pytest.mark.parametrize("command", ["inspect", "head"])
def test_corrupt_parquet_names_the_file(tmp_path, command):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"definitely not parquet" * 10)
    result = sluice(command, bad)
    assert_clean_failure(result, 1)
    assert "broken.parquet" in result.stderr


def test_unknown_extension_asks_for_format(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"a,b\n1,2\n")
    result = sluice("head", path)
    assert_clean_failure(result, 1)
    assert "--format" in result.stderr
    assert sluice("head", path, "--format", "csv").returncode == 0


def test_convert_skips_bad_csv_lines_on_request(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,name\n1,ann\n2\n3,b\xffb\n4,dee\n")
    result = sluice("convert", source, tmp_path / "strict", "--to", "parquet")
    assert_clean_failure(result, 1)
    assert "in.csv: line 3" in result.stderr
    result = sluice("convert", source, tmp_path / "out", "--to", "parquet",
                    "--on-bad-lines", "skip")
    assert result.returncode == 0, result.stderr
    assert pa_ds.dataset(str(tmp_path / "out")).to_table().column("id").to_pylist() == [1, 4]
    result = sluice("convert", source, tmp_path / "replaced", "--to", "parquet",
                    "--on-bad-lines", "skip", "--encoding-errors", "replace")
    assert result.returncode == 0, result.stderr
    assert pa_ds.dataset(str(tmp_path / "replaced")).to_table().column("name").to_pylist() == [
        "ann", "b\ufffdb", "dee"]
    assert_clean_failure(sluice("head", source, "--on-bad-lines", "collect"), 2)
