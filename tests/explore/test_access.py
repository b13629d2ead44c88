"""Who may use the explorer: --auth / --auth-file logins and the warning
for a page served beyond this machine without one (no TensorFlow)."""

import pytest

from vae_tf.explore.access import (credentials, exposure_warning,
                                   is_loopback, parse_credential)


def test_a_login_is_user_colon_password():
    assert parse_credential("ann:s3:cr3t") == ("ann", "s3:cr3t")
    for bad, what in (("nocolon", "no ':'"), (":pw", "an empty user"),
                      ("ann:", "an empty password")):
        with pytest.raises(ValueError, match=what) as err:
            parse_credential(bad)
        assert "pw" not in str(err.value)  # never echoes a password


def test_an_auth_file_lists_logins_and_names_a_bad_line(tmp_path):
    good = tmp_path / "users"
    good.write_text("# who may log in\nann:pw1\n\n  bob:pw2  \n")
    assert credentials(None, str(good)) == [("ann", "pw1"), ("bob", "pw2")]
    assert credentials("cy:pw3", str(good))[0] == ("cy", "pw3")
    assert credentials(None, None) is None
    bad = tmp_path / "bad"
    bad.write_text("ann:pw1\nbob\n")
    with pytest.raises(ValueError, match="line 2"):
        credentials(None, str(bad))
    with pytest.raises(ValueError, match="cannot read it"):
        credentials(None, str(tmp_path / "missing"))
    (tmp_path / "empty").write_text("# nobody\n")
    with pytest.raises(ValueError, match="no USER:PASSWORD"):
        credentials(None, str(tmp_path / "empty"))


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True),
    ("::1", True), ("0.0.0.0", False), ("192.168.1.20", False),
    ("::", False), ("example.org", False)])
def test_only_loopback_addresses_count_as_private(host, loopback):
    assert is_loopback(host) is loopback


def test_a_public_page_without_login_is_warned_of():
    warning = exposure_warning("0.0.0.0", None, 7860)
    assert "0.0.0.0:7860 without a login" in warning
    assert "--auth USER:PASSWORD" in warning
    assert exposure_warning("0.0.0.0", [("ann", "pw")], 7860) is None
    assert exposure_warning("127.0.0.1", None, 7860) is None
