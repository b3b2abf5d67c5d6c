def test_create_get_query(master):
    r = master.post("classes/GameScore", {"score": 10, "name": "a"})
    assert r.status_code == 201, r.json_body
    oid = r.json_body["objectId"]
    assert r["Location"].endswith(f"/parse/classes/GameScore/{oid}")
    r = master.get(f"classes/GameScore/{oid}")
    assert r.status_code == 200, r.json_body
    assert r.json_body["score"] == 10
    r = master.get("classes/GameScore", where={"score": {"$gt": 5}})
    assert [o["objectId"] for o in r.json_body["results"]] == [oid]
    r = master.put(f"classes/GameScore/{oid}", {"score": {"__op": "Increment", "amount": 2}})
    assert r.status_code == 200, r.json_body
    assert r.json_body["score"] == 12
    r = master.delete(f"classes/GameScore/{oid}")
    assert r.status_code == 200
    r = master.get(f"classes/GameScore/{oid}")
    assert r.status_code == 404 and r.json_body["code"] == 101
