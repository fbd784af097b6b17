"""One host for every page: the Kubernetes Ingress component and the compose reverse proxy route
the same paths to the same services, strip the same prefixes and send X-Forwarded-Prefix."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.support import DEPLOY, ROOT, SERVICES, load_all_yaml, load_yaml

COMPONENT = DEPLOY / "k8s/components/ingress"
PREFIXES = {"intake": "/", "routing": "/console", "analytics": "/stats", "notify": "/notify"}
INGRESSES = {d["metadata"]["name"]: d for d in load_all_yaml(COMPONENT / "ingress.yaml")}
NGINX = (DEPLOY / "compose/nginx.conf").read_text()


def _backend(ingress: dict[str, Any]) -> tuple[str, str, str, int]:
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    svc = path["backend"]["service"]
    return rule["host"], path["path"], svc["name"], svc["port"]["number"]


def _rewrite(target: str, match: re.Match[str]) -> str:
    """`$n` of the rewrite target replaced by the path's groups, as ingress-nginx does."""
    return re.sub(r"\$(\d)", lambda g: match.group(int(g.group(1))), target)


def _service_ports() -> dict[str, set[int]]:
    ports: dict[str, set[int]] = {}
    for name in SERVICES:
        for d in load_all_yaml(DEPLOY / f"k8s/base/{name}.yaml"):
            if d["kind"] == "Service":
                ports[d["metadata"]["name"]] = {p["port"] for p in d["spec"]["ports"]}
    return ports


def test_the_component_lists_the_ingress_file() -> None:
    kustomization = load_yaml(COMPONENT / "kustomization.yaml")
    assert kustomization["kind"] == "Component"
    assert kustomization["resources"] == ["ingress.yaml"]


def test_one_ingress_per_service_on_one_host_to_its_service_port() -> None:
    ports = _service_ports()
    assert set(INGRESSES) == {f"fieldreports-{s}" for s in SERVICES}
    hosts = set()
    for svc in SERVICES:
        ing = INGRESSES[f"fieldreports-{svc}"]
        assert (ing["apiVersion"], ing["kind"]) == ("networking.k8s.io/v1", "Ingress")
        assert ing["spec"]["ingressClassName"] == "nginx"
        host, _, name, port = _backend(ing)
        hosts.add(host)
        assert (name, port) == (svc, SERVICES[svc])
        assert port in ports[svc]
        assert host in ing["spec"]["tls"][0]["hosts"]
    assert len(hosts) == 1


@pytest.mark.parametrize("svc", ["routing", "analytics", "notify"])
def test_prefixed_services_get_the_prefix_stripped_and_forwarded(svc: str) -> None:
    ing = INGRESSES[f"fieldreports-{svc}"]
    ann = ing["metadata"]["annotations"]
    prefix = PREFIXES[svc]
    _, path, _, _ = _backend(ing)
    assert ann["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert ann["nginx.ingress.kubernetes.io/x-forwarded-prefix"] == prefix
    target = ann["nginx.ingress.kubernetes.io/rewrite-target"]
    # What ingress-nginx does with the two: match the path, rewrite to the target.
    for seen, upstream in [
        (prefix, "/"),
        (prefix + "/", "/"),
        (prefix + "/api/v1/assignments?x=1", "/api/v1/assignments?x=1"),
    ]:
        m = re.match(path, seen)
        assert m is not None, seen
        assert _rewrite(target, m) == upstream
    assert re.match(path, prefix + "x") is None  # /consolex is not the console


def test_the_status_stream_is_not_buffered() -> None:
    ann = INGRESSES["fieldreports-notify"]["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600


def test_intake_owns_the_root_unrewritten() -> None:
    ing = INGRESSES["fieldreports-intake"]
    assert "nginx.ingress.kubernetes.io/rewrite-target" not in ing["metadata"]["annotations"]
    assert _backend(ing)[1] == "/"


def test_compose_proxy_routes_the_same_paths() -> None:
    for svc, prefix in PREFIXES.items():
        port = SERVICES[svc]
        if prefix == "/":
            assert re.search(rf"location / {{\s*proxy_pass http://{svc}:{port};", NGINX)
            continue
        block = re.search(rf"location {prefix}/ {{(.*?)}}", NGINX, re.S)
        assert block, prefix
        # the trailing slash of proxy_pass strips the prefix
        assert f"proxy_pass http://{svc}:{port}/;" in block.group(1)
        assert f"proxy_set_header X-Forwarded-Prefix {prefix};" in block.group(1)
    notify = re.search(r"location /notify/ {(.*?)}", NGINX, re.S)
    assert notify
    assert "proxy_buffering off;" in notify.group(1)
    assert "location ~ ^/(console/|stats/|notify/)?metrics { return 404; }" in NGINX


def test_compose_override_mounts_the_config_and_waits_for_the_services() -> None:
    override = load_yaml(DEPLOY / "compose/ingress.yml")["services"]["ingress"]
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]
    assert set(override["depends_on"]) == set(SERVICES) <= set(compose)
    (volume,) = override["volumes"]
    source = volume.split(":")[0]
    assert (ROOT / source).resolve() == (DEPLOY / "compose/nginx.conf").resolve()
    assert volume.endswith(":ro")
