"""Log rotation in the executor (Nomad's FileRotator semantics)."""

import os

from pynomad.drivers.executor import FileRotator


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _files(d, base="t.stdout"):
    return sorted((int(n.rsplit(".", 1)[1]), _read(os.path.join(d, n)))
                  for n in os.listdir(d) if n.startswith(base + "."))


def test_rotates_at_size_and_keeps_lines_whole(tmp_path):
    r = FileRotator(str(tmp_path / "t.stdout"), max_files=10, max_size=10)
    r.write(b"aaaa\nbbbb\n")       # exactly 10
    r.write(b"cc\n")
    r.write(b"dddd\neeeeeeeee\n")  # second line does not fit in file 1 → file 2
    r.close()
    assert _files(tmp_path) == [(0, b"aaaa\nbbbb\n"), (1, b"cc\ndddd\n"), (2, b"eeeeeeeee\n")]


def test_long_line_is_split(tmp_path):
    r = FileRotator(str(tmp_path / "t.stdout"), max_files=10, max_size=4)
    r.write(b"0123456789")
    r.close()
    assert _files(tmp_path) == [(0, b"0123"), (1, b"4567"), (2, b"89")]


def test_purges_oldest_beyond_max_files(tmp_path):
    r = FileRotator(str(tmp_path / "t.stdout"), max_files=2, max_size=2)
    for i in range(5):
        r.write(f"{i}\n".encode())
    r.close()
    assert _files(tmp_path) == [(3, b"3\n"), (4, b"4\n")]


def test_resumes_last_file(tmp_path):
    r = FileRotator(str(tmp_path / "t.stdout"), max_files=5, max_size=100)
    r.write(b"one\n")
    r.close()
    r = FileRotator(str(tmp_path / "t.stdout"), max_files=5, max_size=100)
    r.write(b"two\n")
    r.close()
    assert _files(tmp_path) == [(0, b"one\ntwo\n")]
