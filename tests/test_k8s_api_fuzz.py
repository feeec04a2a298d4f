"""No request makes the sandbox's Kubernetes API answer 5xx: random methods, paths, queries, content
types and bodies, one at a time, then sequences that create a valid object of every kind and
write it back with one field changed to a random value (PUT, merge, strategic and JSON patches,
server-side apply). Every error must be a ``Status`` object, as clients parse it.

The seed is printed on failure; set ``K8S_FUZZ_SEED`` to replay one run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import time

import pytest
import requests
import yaml
from k8s_fixtures import kube  # noqa: F401
from test_k8s_api_http import Api

from lab_helpers.sandbox.kubernetes.resources import RESOURCES

pytestmark = pytest.mark.timeout(300)

NS = "tx-fuzz"
SEED = int(os.environ.get("K8S_FUZZ_SEED", str(int(time.time()))))
IMAGE = "fuzz.invalid/none:1"  # not in the sandbox's registry: pods never start a process
PLURALS = [
    "pods",
    "services",
    "configmaps",
    "secrets",
    "namespaces",
    "nodes",
    "deployments",
    "jobs",
    "events",
    "endpoints",
    "replicasets",
    "serviceaccounts",
    "endpointslices",
    "nothings",
    "",
    "..",
    "%2e%2e",
]
SUBS = ["status", "scale", "log", "binding", "eviction", "finalize", "proxy", "exec", "attach", "", "x"]
MEDIA = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
    "",
    "application/json; charset=utf-8",
    "multipart/form-data; boundary=x",
]
QUERY = {
    "watch": ["1", "true", "True", "no", "2"],
    "limit": ["1", "0", "-5", "abc", "99999999999999999999"],
    "continue": ["x", "eyJ2IjoxfQ", "e30", "%%%"],
    "labelSelector": ["a=b", "a in (", "!", "a notin (x,y),b", "==", "a=b=c", "(", "a in ()", "x" * 300],
    "fieldSelector": ["metadata.name=x", "spec.nodeName=", "foo", "a!=b,c==d", "status.phase=Running", "="],
    "resourceVersion": ["0", "1", "-1", "abc", "999999999"],
    "resourceVersionMatch": ["NotOlderThan", "Exact", "x"],
    "timeoutSeconds": ["1", "0", "-1", "x"],
    "dryRun": ["All", "None", ""],
    "fieldValidation": ["Strict", "Warn", "Ignore", "x"],
    "fieldManager": ["m", "", "x" * 200],
    "force": ["true", "x"],
    "propagationPolicy": ["Background", "Foreground", "Orphan", "x"],
    "gracePeriodSeconds": ["0", "-1", "x", "30"],
    "sendInitialEvents": ["true", "false", "x"],
    "allowWatchBookmarks": ["true", "x"],
    "includeObject": ["Object", "None", "Metadata", "x"],
    "container": ["c", "", "nope"],
    "follow": ["true", "x"],
    "tailLines": ["1", "-1", "x"],
    "sinceSeconds": ["0", "5", "x"],
    "limitBytes": ["0", "10", "x"],
    "previous": ["true"],
    "orphanDependents": ["true", "x"],
}
ACCEPT = [
    "application/json",
    "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf",
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
    "*/*",
    "text/html",
    "application/json;as=Table;v=v9;g=meta.k8s.io",
    "",
]


def _value(rng: random.Random, depth: int = 0):
    kinds = ["int", "str", "none", "bool", "float", "big"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-5, 70000)
    if kind == "big":
        return rng.choice([2**63, -(2**63) - 1, 10**30])
    if kind == "str":
        return rng.choice(["", "x", "Bad Name", "a" * 300, "\x00", "é", "1Gi", "-1", "*", "../..", "${x}", "null"])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "float":
        return rng.choice([0.5, -1.5, 1e308, float("nan")]) if rng.random() < 0.9 else 1.0
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(["a", "name", "spec", "metadata", "x.y", "", "$patch", "$retainKeys"]): _value(rng, depth + 1)
        for _ in range(rng.randint(0, 3))
    }


def _body(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.45:
        return json.dumps(_value(rng), allow_nan=True).encode()
    if choice < 0.6:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if choice < 0.7:
        return b"k8s\x00" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if choice < 0.8:
        return yaml.safe_dump(_value(rng)).encode()
    if choice < 0.9:
        return b"[" * 5000  # deeper than any parser allows
    obj = rng.choice(list(samples().values()))
    return json.dumps(_mutate(rng, copy.deepcopy(obj))).encode()


def _path(rng: random.Random) -> str:
    group = rng.choice(
        [
            "/api/v1",
            "/apis/apps/v1",
            "/apis/batch/v1",
            "/apis/discovery.k8s.io/v1",
            "/apis/events.k8s.io/v1",
            "/apis/x/v1",
            "/api",
            "/apis",
            "/api/v2",
            "/openapi/v3",
            "/apis/apps",
        ]
    )
    parts = [group]
    served = [r for r in RESOURCES if r.base_path().startswith(group + "/")]
    res = rng.choice(served) if served and rng.random() < 0.8 else None
    if (res is None and rng.random() < 0.6) or (res is not None and res.namespaced and rng.random() < 0.9):
        parts += ["namespaces", rng.choice([NS, NS, NS, "default", "kube-system", "nowhere", "", "A B"])]
    parts.append(res.plural if res is not None else rng.choice(PLURALS))
    if rng.random() < 0.6:
        names = ["sample-3", "sample-3", "x", "default", "sample-3:80", "http:sample-3:http", "%00", "é", "a" * 300]
        parts.append(rng.choice(names))
        if rng.random() < 0.5:
            parts.append(rng.choice(SUBS))
            if rng.random() < 0.3:
                parts.append(rng.choice(["", "a/b", "..", "index.html"]))
    return "/".join(parts)


def _query(rng: random.Random) -> dict[str, str]:
    keys = rng.sample(sorted(QUERY), rng.randint(0, 4))
    out = {k: rng.choice(QUERY[k]) for k in keys}
    if "watch" in out or rng.random() < 0.1:
        out["timeoutSeconds"] = "1"
    return out


def samples() -> dict[str, dict]:
    """A valid object of each kind, to create and then break."""
    labels = {"app": "sample"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": IMAGE}]}}
    job_template = {"metadata": {}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": IMAGE}]}}
    return {
        "/api/v1/namespaces/{ns}/configmaps": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}},
        "/api/v1/namespaces/{ns}/secrets": {"apiVersion": "v1", "kind": "Secret", "stringData": {"a": "b"}},
        "/api/v1/namespaces/{ns}/serviceaccounts": {"apiVersion": "v1", "kind": "ServiceAccount"},
        "/api/v1/namespaces/{ns}/pods": {"apiVersion": "v1", "kind": "Pod", "spec": template["spec"]},
        "/api/v1/namespaces/{ns}/services": {
            "apiVersion": "v1", "kind": "Service", "spec": {"selector": labels, "ports": [{"port": 80, "name": "http"}]},
        },
        "/api/v1/namespaces/{ns}/endpoints": {
            "apiVersion": "v1", "kind": "Endpoints",
            "subsets": [{"addresses": [{"ip": "127.0.0.9"}], "ports": [{"port": 80}]}],
        },
        "/api/v1/namespaces/{ns}/events": {
            "apiVersion": "v1", "kind": "Event", "involvedObject": {"kind": "Pod", "name": "x"}, "reason": "R",
            "message": "m", "type": "Normal",
        },
        "/apis/apps/v1/namespaces/{ns}/deployments": {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template},
        },
        "/apis/apps/v1/namespaces/{ns}/replicasets": {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template},
        },
        "/apis/batch/v1/namespaces/{ns}/jobs": {
            "apiVersion": "batch/v1", "kind": "Job", "spec": {"suspend": True, "template": job_template},
        },
        "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices": {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.9"]}], "ports": [{"port": 80}],
        },
        "/api/v1/nodes": {"apiVersion": "v1", "kind": "Node", "metadata": {"labels": labels}},
        "/api/v1/namespaces": {"apiVersion": "v1", "kind": "Namespace"},
    }  # fmt: skip


def _mutate(rng: random.Random, obj):
    """``obj`` with one field (anywhere in it) replaced, removed or added."""
    cur = obj
    for _ in range(rng.randint(0, 6)):
        if isinstance(cur, dict) and cur:
            key = rng.choice(list(cur))
            if isinstance(cur[key], (dict, list)) and cur[key] and rng.random() < 0.7:
                cur = cur[key]
                continue
        elif isinstance(cur, list) and cur:
            item = rng.choice(cur)
            if isinstance(item, (dict, list)):
                cur = item
                continue
        break
    if isinstance(cur, dict):
        key = rng.choice(list(cur) + ["unknownField", "status", "metadata"]) if cur else "x"
        if rng.random() < 0.2:
            cur.pop(key, None)
        else:
            cur[key] = _value(rng)
    elif isinstance(cur, list):
        cur.append(_value(rng))
    return obj


class Fuzz:
    def __init__(self, api: Api, rng: random.Random) -> None:
        self.api, self.rng = api, rng
        self.log: list[str] = []

    def send(self, method: str, path: str, body=None, ctype: str = "application/json", **kw) -> requests.Response:
        params = kw.pop("params", {})
        headers = kw.pop("headers", {})
        r = self.api(method, path, body, ctype=ctype, params=params, headers=headers, stream=True)
        shown = (
            body
            if isinstance(body, (str, type(None)))
            else (body[:120] if isinstance(body, bytes) else str(body)[:120])
        )
        self.log.append(f"{method} {path} {params} [{ctype}] {shown!r} -> {r.status_code}")
        try:
            unavailable = r.status_code == 503 and "/proxy" in path  # a Service with no ready endpoint, as in a cluster
            if r.status_code >= 500 and not unavailable:
                raise AssertionError(
                    f"seed {SEED}: HTTP {r.status_code}\n" + "\n".join(self.log[-30:]) + "\n" + r.text[:2000]
                )
            if r.status_code >= 400:
                data = r.json()
                assert data.get("kind") == "Status" and data.get("code") == r.status_code, (self.log[-1], data)
            elif params.get("watch") or params.get("follow"):
                for _ in r.iter_content(4096):
                    break  # the stream started; enough
        finally:
            r.close()
        return r


@pytest.fixture(scope="module")
def fuzz(kube) -> Fuzz:
    api = Api(kube, "sandbox-admin")
    r = api("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    assert r.status_code == 201, r.text
    return Fuzz(api, random.Random(SEED))


def test_sequences_create_then_break(fuzz):
    _sequences(fuzz)


def test_single_requests(fuzz):
    rng = fuzz.rng
    for _ in range(400):
        method = rng.choice(["GET", "GET", "POST", "PUT", "PATCH", "DELETE"])
        body = _body(rng) if method in ("POST", "PUT", "PATCH") or rng.random() < 0.1 else None
        headers = {"Accept": rng.choice(ACCEPT)}
        fuzz.send(method, _path(rng), body, ctype=rng.choice(MEDIA), params=_query(rng), headers=headers)


def _sequences(fuzz):
    rng = fuzz.rng
    for round_ in range(4):
        for collection, sample in samples().items():
            path = collection.replace("{ns}", NS)
            name = f"{'manual' if 'endpoints' in path else 'sample'}-{round_}"  # not the controllers' own
            obj = copy.deepcopy(sample)
            obj.setdefault("metadata", {})["name"] = name
            r = fuzz.send("POST", path, obj)
            assert r.status_code == 201, fuzz.log[-1]
            item = f"{path}/{name}"
            for _ in range(6):
                live = fuzz.api("GET", item).json()
                broken = _mutate(rng, copy.deepcopy(live))
                how = rng.choice(["put", "merge", "strategic", "json", "apply", "status", "scale"])
                if how == "put":
                    fuzz.send("PUT", item, broken, params=_query(rng) if rng.random() < 0.3 else {})
                elif how in ("merge", "strategic"):
                    patch = _mutate(rng, {"metadata": {}, "spec": {}})
                    fuzz.send(
                        "PATCH",
                        item,
                        patch,
                        ctype=f"application/{how}-merge-patch+json".replace("merge-merge", "merge"),
                    )
                elif how == "json":
                    op = {
                        "op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "x"]),
                        "path": rng.choice(
                            [
                                "/spec/x",
                                "/metadata/labels/a",
                                "/data",
                                "/",
                                "",
                                "/spec/template/spec/containers/0/image",
                                "/a/~2",
                            ]
                        ),
                        "value": _value(rng),
                        "from": "/metadata/name",
                    }
                    fuzz.send("PATCH", item, [op], ctype="application/json-patch+json")
                elif how == "apply":
                    fuzz.send(
                        "PATCH",
                        item,
                        yaml.safe_dump(broken),
                        ctype="application/apply-patch+yaml",
                        params={"fieldManager": "fuzz", "force": rng.choice(["true", "false"])},
                    )
                elif how == "status":
                    fuzz.send("PUT", item + "/status", broken)
                else:
                    fuzz.send(
                        "PATCH",
                        item + "/scale",
                        {"spec": {"replicas": _value(rng)}},
                        ctype="application/merge-patch+json",
                    )
            if round_ < 3:  # the last round's objects stay, for the single requests to find
                fuzz.send("DELETE", item, params={"gracePeriodSeconds": "0"})
