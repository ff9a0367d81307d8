"""The helm session's static checks on small rendered fixtures, planted defects included."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.helm import apis, checks, schema
from vibevoice_ci.helm.manifests import Manifest, ManifestError, parse_documents

LABELS = {
    "app.kubernetes.io/name": "vibevoice",
    "app.kubernetes.io/instance": "rel",
    "app.kubernetes.io/version": "0.1.0",
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/component": "tts",
}
TTS = checks.ServiceExpectation("tts", 8000, "/health", "/ready", clients=("agent",))


def _meta(kind: str, api: str, name: str = "rel-tts") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "labels": dict(LABELS)}}


def _container() -> dict[str, Any]:
    def probe(path: str) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": 5}

    return {
        "name": "tts",
        "image": "vibevoice-tts@sha256:" + "a" * 64,
        "ports": [{"name": "http", "containerPort": 8000}],
        "startupProbe": probe("/ready"),
        "livenessProbe": probe("/health"),
        "readinessProbe": probe("/ready"),
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def good_documents() -> list[dict[str, Any]]:
    selector = {k: v for k, v in LABELS.items() if k != "app.kubernetes.io/version"}
    deployment = _meta("Deployment", "apps/v1")
    deployment["spec"] = {
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": dict(LABELS)},
            "spec": {
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [_container()],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        },
    }
    service = _meta("Service", "v1")
    service["spec"] = {"selector": selector, "ports": [{"port": 8000, "targetPort": "http"}]}
    configmap = _meta("ConfigMap", "v1")
    configmap["data"] = {"VIBEVOICE_TTS_ENGINE": "espeak"}
    pdb = _meta("PodDisruptionBudget", "policy/v1")
    pdb["spec"] = {"minAvailable": 1, "selector": {"matchLabels": selector}}
    hpa = _meta("HorizontalPodAutoscaler", "autoscaling/v2")
    hpa["spec"] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rel-tts"},
        "minReplicas": 1,
        "maxReplicas": 2,
    }
    policy = _meta("NetworkPolicy", "networking.k8s.io/v1")
    peer = {"app.kubernetes.io/instance": "rel"}
    policy["spec"] = {
        "podSelector": {"matchLabels": selector},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchLabels": {**peer, "app.kubernetes.io/component": c}}}
                    for c in ("agent", "helm-test")
                ],
                "ports": [{"port": "http"}],
            }
        ],
    }
    return [deployment, service, configmap, pdb, hpa, policy]


def render(documents: list[dict[str, Any]]) -> str:
    return "".join(
        f"---\n# Source: vibevoice/templates/{i}.yaml\n{yaml.safe_dump(d)}"
        for i, d in enumerate(documents)
    )


def manifests(documents: list[dict[str, Any]] | None = None) -> list[Manifest]:
    return parse_documents(render(documents if documents is not None else good_documents()))


def statuses(found: list[Manifest]) -> dict[str, Status]:
    return {o.name: o.status for o in checks.run_all(found, [TTS], ingress_namespace="ingress")}


def test_the_good_fixture_passes_every_check() -> None:
    assert set(statuses(manifests()).values()) == {Status.PASS}


def test_the_good_fixture_is_valid_against_the_api_schemas() -> None:
    for target in ("1.29", "1.35"):
        assert schema.validate(manifests(), target) == []


def test_parse_names_the_template_of_a_broken_document() -> None:
    with pytest.raises(ManifestError, match=r"templates/x\.yaml: not valid YAML"):
        parse_documents("---\n# Source: vibevoice/templates/x.yaml\nkind: [unclosed\n")
    with pytest.raises(ManifestError, match="missing kind"):
        parse_documents("apiVersion: v1\nmetadata: {name: a}\n")
    with pytest.raises(ManifestError, match="must be a mapping"):
        parse_documents("- a\n- b\n")
    assert parse_documents("---\n---\n# only a comment\n") == []


@pytest.mark.parametrize("probe", ["startupProbe", "livenessProbe", "readinessProbe"])
def test_a_container_without_a_probe_fails(probe: str) -> None:
    documents = good_documents()
    del documents[0]["spec"]["template"]["spec"]["containers"][0][probe]
    outcome = checks.probes(manifests(documents), [TTS])
    assert outcome.status is Status.FAIL
    assert f"has no {probe}" in outcome.detail


def test_a_probe_on_the_wrong_path_fails() -> None:
    documents = good_documents()
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["path"] = "/never"
    outcome = checks.probes(manifests(documents), [TTS])
    assert outcome.status is Status.FAIL
    assert "'/never', not '/ready'" in outcome.detail


@pytest.mark.parametrize("kind", checks.REQUIRED_KINDS)
def test_a_missing_required_resource_fails(kind: str) -> None:
    documents = [d for d in good_documents() if d["kind"] != kind]
    (outcome,) = checks.required_resources(manifests(documents), [TTS])
    assert outcome.status is Status.FAIL
    assert kind in outcome.detail


def test_a_second_configured_service_without_resources_fails() -> None:
    agent = checks.ServiceExpectation("agent", 8001, "/health", "/ready")
    outcomes = checks.required_resources(manifests(), [TTS, agent])
    assert [o.status for o in outcomes] == [Status.PASS, Status.FAIL]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("securityContext", "readOnlyRootFilesystem"), False, "readOnlyRootFilesystem"),
        (("securityContext", "allowPrivilegeEscalation"), True, "allowPrivilegeEscalation"),
        (("securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "lacks ALL"),
        (("securityContext", "privileged"), True, "privileged"),
        (("volumeMounts",), [], "no writable emptyDir"),
    ],
)
def test_a_weakened_container_security_context_fails(
    path: tuple[str, ...], value: object, expected: str
) -> None:
    documents = good_documents()
    target = documents[0]["spec"]["template"]["spec"]["containers"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    outcome = checks.security_context(manifests(documents))
    assert outcome.status is Status.FAIL
    assert expected in outcome.detail


def test_a_root_pod_without_seccomp_fails() -> None:
    documents = good_documents()
    documents[0]["spec"]["template"]["spec"]["securityContext"] = {}
    outcome = checks.security_context(manifests(documents))
    assert outcome.status is Status.FAIL
    assert "runAsNonRoot" in outcome.detail
    assert "seccompProfile" in outcome.detail


def test_missing_resources_fail() -> None:
    documents = good_documents()
    del documents[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    outcome = checks.container_resources(manifests(documents))
    assert outcome.status is Status.FAIL
    assert "no limits for cpu, memory" in outcome.detail


def test_missing_labels_fail() -> None:
    documents = good_documents()
    del documents[1]["metadata"]["labels"]["app.kubernetes.io/instance"]
    outcome = checks.labels(manifests(documents))
    assert outcome.status is Status.FAIL
    assert "Service/rel-tts lacks app.kubernetes.io/instance" in outcome.detail


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "ipBlock"),
        ({"namespaceSelector": {}}, "admits namespaces all"),
        ({"podSelector": {}}, "admits pods all"),
        (
            {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "web"}}},
            "admits pods",
        ),
    ],
)
def test_a_network_policy_that_admits_others_fails(peer: dict[str, Any], expected: str) -> None:
    documents = good_documents()
    documents[5]["spec"]["ingress"][0]["from"].append(peer)
    outcome = checks.network_policies(manifests(documents), [TTS], ingress_namespace="ingress")
    assert outcome.status is Status.FAIL
    assert expected in outcome.detail


def test_a_network_policy_open_to_all_or_missing_the_agent_fails() -> None:
    documents = good_documents()
    documents[5]["spec"]["ingress"] = [{"ports": [{"port": "http"}]}]
    outcome = checks.network_policies(manifests(documents), [TTS], ingress_namespace="ingress")
    assert "admits every source" in outcome.detail
    assert "does not admit agent" in outcome.detail


INGRESS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}


def _routing_ingress(service: str = "rel-tts") -> dict[str, Any]:
    ingress = _meta("Ingress", "networking.k8s.io/v1", "rel")
    backend = {"service": {"name": service, "port": {"name": "http"}}}
    ingress["spec"] = {
        "rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "backend": backend}]}}]
    }
    return ingress


def test_the_ingress_controller_is_admitted_where_the_ingress_routes() -> None:
    documents = good_documents()
    documents[5]["spec"]["ingress"][0]["from"].append(INGRESS_PEER)
    routed = manifests([*documents, _routing_ingress()])
    assert checks.ingress_targets(routed) == {"tts"}
    outcome = checks.network_policies(routed, [TTS], ingress_namespace="ingress")
    assert outcome.status is Status.PASS
    assert "the ingress controller" in outcome.detail


def test_the_ingress_controller_is_refused_where_no_ingress_routes() -> None:
    documents = good_documents()
    documents[5]["spec"]["ingress"][0]["from"].append(INGRESS_PEER)
    outcome = checks.network_policies(manifests(documents), [TTS], ingress_namespace="ingress")
    assert outcome.status is Status.FAIL
    assert "admits namespaces" in outcome.detail


def test_a_routed_service_that_refuses_the_ingress_controller_fails() -> None:
    routed = manifests([*good_documents(), _routing_ingress()])
    outcome = checks.network_policies(routed, [TTS], ingress_namespace="ingress")
    assert outcome.status is Status.FAIL
    assert "does not admit the ingress controller" in outcome.detail


def test_a_plain_api_key_fails() -> None:
    documents = good_documents()
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "ANTHROPIC_API_KEY", "value": "sk-plain"}]
    outcome = checks.secret_env(manifests(documents))
    assert outcome.status is Status.FAIL
    assert "ANTHROPIC_API_KEY" in outcome.detail
    container["env"] = [
        {"name": "ANTHROPIC_API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    ]
    assert checks.secret_env(manifests(documents)).status is Status.PASS
    documents[2]["data"]["ANTHROPIC_API_KEY"] = "sk-plain"
    assert checks.secret_env(manifests(documents)).status is Status.FAIL


def _ingress(api: str) -> dict[str, Any]:
    ingress = _meta("Ingress", api)
    ingress["spec"] = {"rules": [{"host": "a.example"}]}
    return ingress


def test_a_removed_ingress_api_is_a_failure_with_its_replacement() -> None:
    found = apis.check_api_versions(manifests([_ingress("extensions/v1beta1")]), ["1.29"])
    assert [(f.removed, f.target) for f in found] == [(True, "1.29")]
    assert "removed in Kubernetes 1.29; use networking.k8s.io/v1" in found[0].message()
    problems = schema.validate(manifests([_ingress("extensions/v1beta1")]), "1.29")
    assert [p.message for p in problems] == ["no extensions/v1beta1 Ingress API"]


def test_an_api_deprecated_but_still_served_is_a_warning() -> None:
    hpa = copy.deepcopy(good_documents()[4])
    hpa["apiVersion"] = "autoscaling/v2beta2"
    (warning,) = apis.check_api_versions(manifests([hpa]), ["1.25"])
    assert not warning.removed
    (removed,) = apis.check_api_versions(manifests([hpa]), ["1.26"])
    assert removed.removed
    endpoints = _meta("Endpoints", "v1")
    assert [f.removed for f in apis.check_api_versions(manifests([endpoints]), ["1.35"])] == [False]
    assert apis.check_api_versions(manifests([endpoints]), ["1.32"]) == []


def test_current_apis_have_no_finding() -> None:
    assert apis.check_api_versions(manifests(), ["1.29", "1.35"]) == []


def test_the_table_is_consistent() -> None:
    seen = set()
    for row in apis.TABLE:
        assert (row.api_version, row.kind) not in seen
        seen.add((row.api_version, row.kind))
        if row.removed_in is not None:
            assert apis.minor_key(row.deprecated_in) < apis.minor_key(row.removed_in)
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        apis.minor_key("latest")


def test_schema_validation_rejects_a_bad_field_and_an_unknown_one() -> None:
    documents = good_documents()
    documents[4]["spec"]["minReplicas"] = "two"
    documents[1]["spec"]["clusterIPs"] = "10.0.0.1"
    documents[2]["unexpected"] = True
    problems = schema.validate(manifests(documents), "1.35")
    lines = " ".join(p.line() for p in problems)
    assert "HorizontalPodAutoscaler/rel-tts" in lines
    assert "spec/minReplicas" in lines
    assert "Service/rel-tts" in lines
    assert "ConfigMap/rel-tts" in lines


def test_schema_validation_needs_a_bundled_version() -> None:
    assert "1.29" in schema.supported_versions()
    with pytest.raises(ConfigError, match=r"no bundled schemas for Kubernetes 1\.10") as caught:
        schema.validate(manifests(), "1.10")
    assert caught.value.exit_code == 2
    assert "kubernetes_versions" in str(caught.value)


def test_test_hooks_need_resources_but_no_probes() -> None:
    hook = _meta("Pod", "v1", "rel-smoke-test")
    hook["metadata"]["annotations"] = {"helm.sh/hook": "test"}
    container = _container()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        del container[probe]
    hook["spec"] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        "restartPolicy": "Never",
    }
    found = manifests([*good_documents(), hook])
    assert found[-1].is_test_hook
    assert checks.probes(found, [TTS]).status is Status.PASS
    del hook["spec"]["containers"][0]["resources"]
    assert checks.container_resources(manifests([*good_documents(), hook])).status is Status.FAIL


# The agent: its bearer tokens from a Secret the chart renders ---------------------------------

AGENT = checks.ServiceExpectation(
    "agent", 8080, "/health", "/ready", secret_env=("VIBEVOICE_AGENT_TOKENS",)
)
TOKENS_REF = {"secretKeyRef": {"name": "rel-agent-tokens", "key": "tokens"}}


def agent_documents() -> list[dict[str, Any]]:
    """The good fixture as the agent: its own resources, tokens from its Secret."""
    as_json = json.dumps(good_documents()).replace('"tts"', '"agent"')
    documents: list[dict[str, Any]] = json.loads(as_json.replace('"rel-tts"', '"rel-agent"'))
    documents[5]["spec"]["ingress"][0]["from"] = [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "rel",
                                         "app.kubernetes.io/component": "helm-test"}}},
    ]  # fmt: skip
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    container["name"] = "agent"
    container["env"] = [
        {"name": "VIBEVOICE_AGENT_TOKENS", "valueFrom": copy.deepcopy(TOKENS_REF)},
        {"name": "VIBEVOICE_AGENT_TOKENS_ENV", "value": "VIBEVOICE_AGENT_TOKENS"},
    ]
    secret = _meta("Secret", "v1", "rel-agent-tokens")
    secret["metadata"]["labels"]["app.kubernetes.io/component"] = "agent"
    secret["data"] = {"tokens": "c2VjcmV0LXRva2VuLXZhbHVlLTEyMzQ="}
    return [*documents, secret]


def agent_container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = documents[0]["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_agent_fixture_with_tts_passes_every_check() -> None:
    found = manifests([*good_documents(), *agent_documents()])
    outcomes = checks.run_all(found, [AGENT, TTS], ingress_namespace="ingress")
    assert {o.name: o.status for o in outcomes} == {o.name: Status.PASS for o in outcomes}
    assert [o.name for o in outcomes][:2] == ["resources/agent", "resources/tts"]
    assert "1 required variable(s) from Secrets" in checks.secret_env(found, [AGENT]).detail


def test_the_agent_tokens_as_a_plain_value_fail() -> None:
    documents = agent_documents()
    agent_container(documents)["env"][0] = {"name": "VIBEVOICE_AGENT_TOKENS", "value": "t" * 20}
    outcome = checks.secret_env(manifests(documents), [AGENT])
    assert outcome.status is Status.FAIL
    assert "sets VIBEVOICE_AGENT_TOKENS to a plain value" in outcome.detail
    assert "VIBEVOICE_AGENT_TOKENS does not come from a Secret" in outcome.detail


def test_the_agent_without_its_tokens_fails() -> None:
    documents = agent_documents()
    agent_container(documents)["env"] = []
    outcome = checks.secret_env(manifests(documents), [AGENT])
    assert outcome.status is Status.FAIL
    assert "VIBEVOICE_AGENT_TOKENS does not come from a Secret" in outcome.detail
    gone = [d for d in agent_documents() if d["kind"] != "Deployment"]
    assert "no workload" in checks.secret_env(manifests(gone), [AGENT]).detail


@pytest.mark.parametrize(
    ("name", "value", "passes"),
    [
        ("VIBEVOICE_AGENT_TOKENS_ENV", "VIBEVOICE_AGENT_TOKENS", True),
        ("VIBEVOICE_AGENT_TOKENS_ENV", "SOME_PLAIN_VARIABLE", False),
        ("VIBEVOICE_AGENT_TOKENS_FILE", "/run/tokens/tokens", True),
        ("VIBEVOICE_AGENT_TOKENS_FILE", "/tmp/tokens", False),
        ("VIBEVOICE_AGENT_TOKENS_FILE", "/run/tokens-elsewhere", False),
        ("VIBEVOICE_AGENT_TOKEN", "VIBEVOICE_AGENT_TOKENS", False),
    ],
)
def test_a_plain_secret_name_may_only_point_at_a_secret(
    name: str, value: str, passes: bool
) -> None:
    documents = agent_documents()
    pod = documents[0]["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "tokens", "secret": {"secretName": "rel-agent-tokens"}})
    agent_container(documents)["volumeMounts"].append(
        {"name": "tokens", "mountPath": "/run/tokens"}
    )
    agent_container(documents)["env"].append({"name": name, "value": value})
    outcome = checks.secret_env(manifests(documents), [AGENT])
    assert (outcome.status is Status.PASS) is passes, outcome.detail


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"name": "other-secret", "key": "tokens"}, "needs Secret 'other-secret' key 'tokens'"),
        ({"name": "rel-agent-tokens", "key": "nope"}, "needs Secret 'rel-agent-tokens' key 'nope'"),
    ],
)
def test_a_secret_reference_the_chart_does_not_render_fails(
    ref: dict[str, str], expected: str
) -> None:
    documents = agent_documents()
    agent_container(documents)["env"][0]["valueFrom"]["secretKeyRef"] = ref
    outcome = checks.secret_refs(manifests(documents))
    assert outcome.status is Status.FAIL
    assert expected in outcome.detail
    agent_container(documents)["env"][0]["valueFrom"]["secretKeyRef"]["optional"] = True
    assert checks.secret_refs(manifests(documents)).status is Status.PASS


def test_an_embedded_secret_fails_and_a_generated_one_passes() -> None:
    first = manifests(agent_documents())
    embedded = checks.generated_secrets(first, manifests(agent_documents()))
    assert embedded.status is Status.FAIL
    assert "data tokens is the same in two renders" in embedded.detail
    other = agent_documents()
    other[-1]["data"] = {"tokens": "b3RoZXItdG9rZW4tdmFsdWUtNTY3OA=="}
    generated = checks.generated_secrets(first, manifests(other))
    assert generated.status is Status.PASS
    assert "1 Secret(s) generated afresh" in generated.detail
    missing = checks.generated_secrets(first, manifests(agent_documents()[:-1]))
    assert "not in the second render" in missing.detail
    assert checks.generated_secrets(manifests(), manifests()).status is Status.PASS


def test_the_agent_network_policy_admits_only_the_test_pod_and_its_ingress() -> None:
    documents = agent_documents()
    found = manifests(documents)
    assert checks.network_policies(found, [AGENT], ingress_namespace="i").status is Status.PASS
    documents[5]["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "rel",
                                         "app.kubernetes.io/component": "tts"}}}
    )  # fmt: skip
    outcome = checks.network_policies(manifests(documents), [AGENT], ingress_namespace="i")
    assert outcome.status is Status.FAIL
    assert "admits pods" in outcome.detail


# Non-root per container, on the real `helm template` output of the CI values ---------------

RENDERED_CI = (
    Path(__file__).resolve().parents[3] / "integration/data/reports-real/helm/rendered/ci.yaml"
)


def rendered_ci() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(RENDERED_CI.read_text(encoding="utf-8")) if d]


def tts_pod(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = [
        d
        for d in documents
        if d["kind"] == "Deployment" and d["metadata"]["labels"][checks.COMPONENT] == "tts"
    ]
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def test_the_real_rendering_is_hardened() -> None:
    outcome = checks.security_context(manifests(rendered_ci()))
    assert outcome.status is Status.PASS, outcome.detail


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"runAsNonRoot": False}, "runAsNonRoot is false (the container's securityContext)"),
        ({"runAsUser": 0}, "runAsUser is 0 (the container's securityContext)"),
        ({"seccompProfile": {"type": "Unconfined"}}, "seccompProfile Unconfined overrides"),
    ],
)
def test_a_container_that_overrides_the_non_root_pod_fails(
    override: dict[str, Any], expected: str
) -> None:
    documents = rendered_ci()
    tts_pod(documents)["containers"][0]["securityContext"].update(override)

    outcome = checks.security_context(manifests(documents))

    assert outcome.status is Status.FAIL
    assert f"Deployment/vibevoice-ci-tts container 'tts': {expected}" in outcome.detail


def test_an_init_container_running_as_root_fails_by_name() -> None:
    documents = rendered_ci()
    pod = tts_pod(documents)
    init = copy.deepcopy(pod["containers"][0])
    init["name"] = "fetch-model"
    init["securityContext"]["runAsUser"] = 0
    pod["initContainers"] = [init]

    outcome = checks.security_context(manifests(documents))

    assert outcome.status is Status.FAIL
    assert "container 'fetch-model': runAsUser is 0" in outcome.detail
    assert "container 'tts'" not in outcome.detail


def test_a_root_pod_user_fails_each_container_that_does_not_override_it() -> None:
    documents = rendered_ci()
    pod = tts_pod(documents)
    pod["securityContext"]["runAsUser"] = 0
    outcome = checks.security_context(manifests(documents))
    assert "container 'tts': runAsUser is 0 (the pod's securityContext)" in outcome.detail

    pod["containers"][0]["securityContext"]["runAsUser"] = 10001
    assert checks.security_context(manifests(documents)).status is Status.PASS


def test_a_container_may_set_non_root_where_the_pod_does_not() -> None:
    documents = good_documents()
    pod = documents[0]["spec"]["template"]["spec"]
    del pod["securityContext"]["runAsNonRoot"]
    outcome = checks.security_context(manifests(documents))
    assert "runAsNonRoot is set on neither the container nor the pod" in outcome.detail

    pod["containers"][0]["securityContext"]["runAsNonRoot"] = True
    assert checks.security_context(manifests(documents)).status is Status.PASS
