"""Uploaded packages: kept by sha256, refused when unsafe (each attack), unpacked safely."""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import NotFoundError
from shipyard.platform.jobs.packages import PackageRejected, PackageStore, check_archive

if TYPE_CHECKING:
    from pathlib import Path


def _archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes = b"print('hi')\n") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def test_a_package_is_kept_under_its_sha256_and_unpacks(tmp_path: Path) -> None:
    link = _special("link.py", tarfile.SYMTYPE, "job.py")
    data = _archive(_file("job.py"), _file("pkg/mod.py", b"X = 1\n"), link)
    store = PackageStore(tmp_path / "packages")
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.put(data) == sha and store.has(sha)
    store.unpack(sha, tmp_path / "work")
    assert (tmp_path / "work" / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert (tmp_path / "work" / "link.py").read_text() == "print('hi')\n"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_file("/etc/cron.d/evil"), "has an absolute path"),
        (_file("../outside.py"), r"leads out of the package \(\.\.\)"),
        (_file("pkg/../../outside.py"), r"leads out of the package \(\.\.\)"),
        (_special("escape", tarfile.SYMTYPE, "/etc/passwd"), "links to '/etc/passwd', outside"),
        (_special("pkg/up", tarfile.SYMTYPE, "../../secret"), "links to '../../secret', outside"),
        (_special("hard", tarfile.LNKTYPE, "../secret"), "links to '../secret', outside"),
        (_special("hard", tarfile.LNKTYPE, "/etc/shadow"), "links to '/etc/shadow', outside"),
        (_special("dev", tarfile.CHRTYPE), "is a device or a FIFO"),
        (_special("disk", tarfile.BLKTYPE), "is a device or a FIFO"),
        (_special("pipe", tarfile.FIFOTYPE), "is a device or a FIFO"),
    ],
)
def test_unsafe_members_are_refused_by_name(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None], message: str
) -> None:
    data = _archive(_file("job.py"), member)
    store = PackageStore(tmp_path / "packages")
    with pytest.raises(PackageRejected, match=message):
        store.put(data)
    assert not (tmp_path / "packages").exists() or not any((tmp_path / "packages").iterdir())


def test_a_package_stored_before_is_checked_again_when_unpacked(tmp_path: Path) -> None:
    data = _archive(_file("../outside.py"))
    sha = hashlib.sha256(data).hexdigest()
    (tmp_path / "packages").mkdir()
    (tmp_path / "packages" / f"{sha}.tar.gz").write_bytes(data)  # planted, not uploaded
    with pytest.raises(PackageRejected, match="leads out"):
        PackageStore(tmp_path / "packages").unpack(sha, tmp_path / "work")
    assert not (tmp_path / "outside.py").exists()


def test_size_limits_are_enforced(tmp_path: Path) -> None:
    data = _archive(_file("big.bin", b"\0" * 200_000))
    with pytest.raises(PackageRejected, match="over the server's limit of 100") as caught:
        check_archive(data, max_bytes=100)
    assert caught.value.too_large
    with pytest.raises(PackageRejected, match="unpacks to over 20,000 bytes"):
        check_archive(data, max_bytes=2_000)  # compresses to a few hundred bytes: a zip bomb


def test_what_is_not_a_tar_gz_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageRejected, match=r"not a readable tar\.gz"):
        check_archive(b"PK\x03\x04 a zip file")


def test_an_unknown_package_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no package"):
        PackageStore(tmp_path).unpack("../../etc/passwd", tmp_path / "work")
