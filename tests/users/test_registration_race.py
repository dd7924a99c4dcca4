"""Two registrations of one name (spelled two ways) at the same moment, over real HTTP under
gunicorn with several workers: the database decides, the loser gets the 400 it would have
got had it come second, and both spellings then log in to the one account that exists."""

import pytest

from tests.live import live_server
from tests.test_concurrency import PASSWORD, _all_at_once, _tail
from users import messages

ROUNDS = 4
DOTLESS_I, FINAL_SIGMA, SIGMA = "\u0131", "\u03c2", "\u03c3"
TAKEN = {
    "username": (400, {"username": [messages.USERNAME_TAKEN]}),
    "email": (400, {"email": [messages.EMAIL_TAKEN]}),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("registration")) as srv:
        yield srv


def _register(server, username: str, email: str):
    body = {
        "username": username,
        "email": email,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    return lambda: server.request("POST", "/api/users/register/", body)


def _log_in(server, username: str):
    return server.request("POST", "/api/token/", {"username": username, "password": PASSWORD})


@pytest.mark.parametrize(
    ("tag", "field", "spellings"),
    [
        ("dotless", "username", (f"{DOTLESS_I}van", "ivan")),
        ("sigma", "username", (f"niko{FINAL_SIGMA}", f"niko{SIGMA}")),
        ("mail", "email", (f"{DOTLESS_I}van@example.com", "ivan@example.com")),
    ],
)
def test_racing_registrations_of_one_name_create_one_account(server, tag, field, spellings):
    problems = []
    for round_ in range(ROUNDS):
        if field == "username":  # one name spelled two ways, different e-mails
            people = [
                (f"{name}{round_}", f"{tag}{round_}-{n}@example.org")
                for n, name in enumerate(spellings)
            ]
        else:  # one e-mail spelled two ways, different usernames
            people = [
                (f"{tag}{round_}-{n}", f"{round_}{email}") for n, email in enumerate(spellings)
            ]

        results = _all_at_once([_register(server, *person) for person in people])

        created = [body for status, body in results if status == 201]
        refused = [result for result in results if result[0] != 201]
        if len(created) != 1 or refused != [TAKEN[field]]:
            problems.append((round_, results))
            continue
        # Each spelling logs in, always to the one account that exists.
        names = [name for name, _ in people] if field == "username" else [created[0]["username"]]
        for name in names:
            status, tokens = _log_in(server, name)
            me = (
                server.request("GET", "/api/users/me/", token=tokens["access"])
                if status == 200
                else None
            )
            if status != 200 or me[1]["id"] != created[0]["id"]:
                problems.append((round_, name, status, tokens, me))

    assert not problems, f"{problems[:3]}\n{_tail(server.log_path, 30)}"
