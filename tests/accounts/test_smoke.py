from tests.conftest import ParseClient


def test_signup_login_me_logout(api: ParseClient) -> None:
    r = api.post(
        "users", {"username": "alice", "password": "s3cret-pass", "email": "a@example.com"}
    )
    assert r.status_code == 201, r.json_body
    token = r.json_body["sessionToken"]
    assert token.startswith("r:") and len(token) == 34
    uid = r.json_body["objectId"]
    me = ParseClient(session_token=token).get("users/me")
    assert me.status_code == 200, me.json_body
    assert me.json_body["username"] == "alice" and me.json_body["email"] == "a@example.com"
    assert me.json_body["sessionToken"] == token
    dup = api.post("users", {"username": "ALICE", "password": "x-password"})
    assert dup.json_body["code"] == 202
    bad = api.post("login", {"username": "alice", "password": "nope"})
    assert bad.status_code == 404 and bad.json_body == {
        "code": 101,
        "error": "Invalid username/password.",
    }
    ok = api.post("login", {"username": "alice", "password": "s3cret-pass"})
    assert ok.status_code == 200, ok.json_body
    token2 = ok.json_body["sessionToken"]
    assert ok.json_body["objectId"] == uid
    # another user cannot see alice's email or data (private users)
    other = api.post("users", {"username": "bob", "password": "bob-password"}).json_body[
        "sessionToken"
    ]
    seen = ParseClient(session_token=other).get(f"users/{uid}")
    assert seen.status_code == 404
    out = ParseClient(session_token=token2).post("logout", {})
    assert out.status_code == 200
    again = ParseClient(session_token=token2).get("users/me")
    assert again.status_code == 400 and again.json_body["code"] == 209
    assert ParseClient(session_token=token).get("users/me").status_code == 200


def test_roles_in_acl(api: ParseClient, master: ParseClient) -> None:
    a = api.post("users", {"username": "ann", "password": "ann-password"}).json_body
    b = api.post("users", {"username": "ben", "password": "ben-password"}).json_body
    staff = master.post(
        "roles",
        {
            "name": "Staff",
            "ACL": {"*": {"read": True}},
            "users": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "_User", "objectId": a["objectId"]}],
            },
        },
    )
    assert staff.status_code == 201, staff.json_body
    admins = master.post(
        "roles",
        {
            "name": "Admins",
            "ACL": {"*": {"read": True}},
            "roles": {
                "__op": "AddRelation",
                "objects": [
                    {
                        "__type": "Pointer",
                        "className": "_Role",
                        "objectId": staff.json_body["objectId"],
                    }
                ],
            },
        },
    )
    assert admins.status_code == 201, admins.json_body
    master.post("classes/Doc", {"t": 1, "ACL": {"role:Admins": {"read": True}}})
    ann = ParseClient(session_token=a["sessionToken"])
    ben = ParseClient(session_token=b["sessionToken"])
    assert len(ann.get("classes/Doc").json_body["results"]) == 1
    assert len(ben.get("classes/Doc").json_body["results"]) == 0
