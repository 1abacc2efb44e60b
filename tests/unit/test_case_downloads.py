"""How the gateway names a downloaded attachment or case file (RFC 6266 with RFC 5987)."""

from urllib.parse import unquote

import pytest

from gateway.api.cases import _attachment


@pytest.mark.parametrize(
    "filename,fallback",
    [
        ('report "final".pdf', "report _final_.pdf"),
        ("Müller\\證詞.txt", "M_ller___.txt"),
        ('x"; filename="evil.exe', "x_; filename=_evil.exe"),
        ("line\r\nbreak.txt", "line__break.txt"),
        ("證詞", "__"),
    ],
)
def test_the_fallback_is_quoted_ascii_and_filename_star_keeps_the_exact_name(filename, fallback):
    disposition = _attachment(filename)
    head, star = disposition.split("; filename*=UTF-8''")
    assert head == f'attachment; filename="{fallback}"'
    assert unquote(star) == filename
    assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
    assert all(char not in star for char in "\"'; ")
