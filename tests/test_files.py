"""@file values and answers, as graders meet them: read by content (.npy, .npz, text), only regular files of a
bounded size, without pickles, never quoted in a message; and not at all under --no-files / MCALC_NO_FILES=1."""

import numpy as np
import pytest
from typer.testing import CliRunner

from mcalc.cli import app


def run(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def files(tmp_path):
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.save(tmp_path / "a.npy", A)
    np.savez(tmp_path / "one.npz", A=A)
    np.savez(tmp_path / "two.npz", A=A, B=A)
    (tmp_path / "a.txt").write_text("1 2\n3 4\n")
    (tmp_path / "secret.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "renamed.npy").write_bytes((tmp_path / "one.npz").read_bytes())       # an .npz named .npy
    (tmp_path / "renamed.txt").write_bytes((tmp_path / "a.npy").read_bytes())
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return tmp_path, A


@pytest.mark.parametrize("name", ["a.npy", "one.npz", "a.txt", "renamed.npy", "renamed.txt"])
def test_files_are_read_by_content(files, name):
    d, A = files
    r = run("jac", "A@x", "--wrt", "x", "--value", f"A=@{d / name}", "--value", "x=1 1", "-f", "json")
    assert r.exit_code == 0, r.output
    import json

    np.testing.assert_allclose(json.loads(r.stdout)["jacobian"], A)            # d(A x)/dx = A


@pytest.mark.parametrize("name,fragment", [("two.npz", "2 arrays"), ("secret.txt", "holds no numbers"),
                                           ("objects.npy", "not a valid .npy or .npz file"),
                                           ("missing.npy", "No such file")])
def test_bad_files_are_refused_without_quoting_them(files, name, fragment):
    d, _ = files
    r = run("check", "sum(A)", "--wrt", "A", "--shape", "2x2", "--expect", f"@{d / name}")
    assert r.exit_code == 2 and fragment in r.output and "root" not in r.output.replace(str(d), ""), r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_devices_and_pipes_are_not_read(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        r = run("jac", "sum(A)", "--wrt", "A", "--value", f"A=@{path}")
        assert r.exit_code == 2 and "not a regular file" in r.output


def test_no_files_for_graders(files):
    d, _ = files
    for args, env in ((["--no-files"], None), ([], {"MCALC_NO_FILES": "1"})):
        r = run("check", "sum(A)", "--wrt", "A", "--shape", "2x2", "--expect", f"@{d / 'a.txt'}", *args, env=env)
        assert r.exit_code == 2 and "files are not read here" in r.output, r.output
        r = run("jac", "sum(A)", "--wrt", "A", "--value", f"A=@{d / 'a.txt'}", *args, env=env)
        assert r.exit_code == 2 and "files are not read here" in r.output
    r = run("check", "sum(A)", "--wrt", "A", "--shape", "2x2", "--expect", "ones((2, 2))", "--no-files")
    assert r.exit_code == 0                                               # answers written out are judged as ever
    r = run("jac", "sum(A)", "--wrt", "A", "--value", f"A=@{d / 'a.txt'}")      # (the option lasts one command)
    assert r.exit_code == 0
