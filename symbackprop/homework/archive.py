"""A zip whose bytes depend on its entries alone (issue 14): fixed times, system and permissions
(ZipInfo's defaults take the clock and the platform), so the same class gives the same export."""

from __future__ import annotations

import io
import zipfile
from typing import Iterable

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: The "made on" system of every entry: Unix, whose permission bits the entries carry.
UNIX = 3


def fixed_zip(entries: Iterable[tuple[str, bytes, int]]) -> bytes:
    """The entries (name, content, permission bits such as 0o644) in the order given; a name that
    ends in "/" is a directory."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.create_system = UNIX
            if name.endswith("/"):
                info.external_attr = (0o40000 | mode) << 16 | 0x10        # a directory, as MS-DOS says too
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return stream.getvalue()
