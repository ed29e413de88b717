"""The one URL redaction (footcast.adapters.redaction): the HTTP rule, where a bare userinfo is a
token. The Redis rule (a bare userinfo is a user name) is tested with the Redis store."""

from __future__ import annotations

import logging

from footcast.adapters.redaction import ScrubLogRecords, redact_url, scrub, url_secrets

SECRET = "webpw-9f3c"  # distinctive, so a leak anywhere is found by substring


def test_redact_url() -> None:
    assert redact_url(f"http://user:{SECRET}@127.0.0.1:8799/x.csv") == "http://user:***@127.0.0.1:8799/x.csv"
    assert redact_url(f"https://{SECRET}@mirror.example/x.csv") == "https://***@mirror.example/x.csv"
    assert redact_url("http://user:p@ss#w?rd@h/x") == "http://user:***@h/x"  # unencoded specials
    assert (
        redact_url("https://h/x.csv?API_KEY=k1&season=2324&Token=t")
        == "https://h/x.csv?API_KEY=***&season=2324&Token=***"
    )
    assert redact_url("https://www.football-data.co.uk/mmz4281/2324/E0.csv") == (
        "https://www.football-data.co.uk/mmz4281/2324/E0.csv"
    )
    once = redact_url(f"http://user:{SECRET}@h/x?token={SECRET}")
    assert redact_url(once) == once  # idempotent: a stored (redacted) URL is its own archive key


def test_a_bare_userinfo_is_a_secret_only_where_it_is_a_token() -> None:
    assert redact_url(f"https://{SECRET}@h/x") == "https://***@h/x"
    assert redact_url("redis://user@h:6379/0", bare_userinfo_is_secret=False) == "redis://user@h:6379/0"


def test_secrets_are_scrubbed_from_text_as_written_and_decoded() -> None:
    url = "http://user:p%40ss-word@h/x?api_key=k%2B1+2&season=2324"
    secrets = url_secrets(url)
    message = "failed for p%40ss-word, p@ss-word, k%2B1+2 and k+1 2 (season 2324)"
    assert scrub(message, secrets) == "failed for ***, ***, *** and *** (season 2324)"


def test_log_records_quoting_a_secret_are_scrubbed() -> None:
    hide = ScrubLogRecords({"https://hooks.example/T0KEN"}, mask="<alert webhook>")
    quoting = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "POST %s", ("https://hooks.example/T0KEN",), None
    )
    other = logging.LogRecord("httpx", logging.INFO, __file__, 1, "GET %s", ("https://h/x",), None)
    assert hide.filter(quoting) and hide.filter(other)
    assert quoting.getMessage() == "POST <alert webhook>"
    assert (other.msg, other.args) == ("GET %s", ("https://h/x",))
