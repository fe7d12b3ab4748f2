#!/usr/bin/env python3
"""What the Kubernetes schemas cannot say about deploy/kubernetes: run by scripts/kubernetes-validate
on each rendered kustomization (`kubectl kustomize DIR`), after the schema check.

    kubernetes-check.py RENDERED.yaml [--installation]

Every pod (Deployments and Jobs): non-root as uid 10001, read-only root filesystem, no privilege
escalation, every capability dropped, CPU and memory requests and limits, a writable /tmp.
Every Deployment: liveness on /healthz and readiness on /readyz, rolling updates that never go below
the wanted count, a grace period longer than the drain plus the 10 s for in-flight requests, JSON
logs, /metrics on a port named `metrics` that the scrape annotations name, no `replicas` (the
autoscaler's), and a Service, a HorizontalPodAutoscaler and a PodDisruptionBudget that select it.
With --installation (an overlay: everything a namespace gets): every Secret a pod reads exists
with that key, the auth server's issuer is https, and the database connections at the autoscalers'
maximum (plus a surge pod each and one CLI or migration) fit in PostgreSQL's default 100.

Prints one line per problem and exits 1 when there is any. Needs PyYAML.
"""

import sys

import yaml

SHUTDOWN_IN_FLIGHT_SECONDS = 10  # how long the services give in-flight requests after the drain
DEFAULT_POOL_SIZE = 10  # DATABASE_POOL_SIZE's default, which the CLI and the Job use
MAX_CONNECTIONS = 100  # PostgreSQL's default max_connections


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def env_value(container, name, default=None):
    entry = env_of(container).get(name)
    return entry.get("value", default) if entry else default


def selects(selector, labels):
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_pod(where, pod, problems):
    spec = pod["spec"]
    pod_security = spec.get("securityContext", {})
    if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser") != 10001:
        problems.append(f"{where}: pod must run as non-root uid 10001")
    tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for c in spec["containers"]:
        cwhere = f"{where} container {c['name']}"
        security = c.get("securityContext", {})
        if security.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cwhere}: readOnlyRootFilesystem must be true")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cwhere}: allowPrivilegeEscalation must be false")
        if "ALL" not in security.get("capabilities", {}).get("drop", []):
            problems.append(f"{cwhere}: must drop ALL capabilities")
        resources = c.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(kind, {}):
                    problems.append(f"{cwhere}: no {resource} {kind[:-1]}")
        if not any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes
                   for m in c.get("volumeMounts", [])):
            problems.append(f"{cwhere}: /tmp must be an emptyDir")
        if env_value(c, "LOG_FORMAT") != "json":
            problems.append(f"{cwhere}: LOG_FORMAT must be json")


def check_deployment(d, objects, problems):
    name = d["metadata"]["name"]
    where = f"Deployment {name}"
    spec, pod = d["spec"], d["spec"]["template"]
    labels = pod["metadata"].get("labels", {})
    if "replicas" in spec:
        problems.append(f"{where}: sets replicas, which its HorizontalPodAutoscaler owns")
    if not selects(spec.get("selector"), labels):
        problems.append(f"{where}: its selector does not match its pod labels")
    rolling = spec.get("strategy", {}).get("rollingUpdate", {})
    if spec.get("strategy", {}).get("type") != "RollingUpdate" or rolling.get("maxUnavailable") != 0:
        problems.append(f"{where}: rolling updates must have maxUnavailable 0")
    annotations = pod["metadata"].get("annotations", {})
    (container,) = pod["spec"]["containers"]
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ports:
            problems.append(f"{where}: {probe} must GET {path} on a container port")
    drain = int(env_value(container, "SHUTDOWN_DRAIN_SECONDS", "5"))
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    if grace <= drain + SHUTDOWN_IN_FLIGHT_SECONDS:
        problems.append(f"{where}: terminationGracePeriodSeconds {grace} must exceed "
                        f"SHUTDOWN_DRAIN_SECONDS {drain} + {SHUTDOWN_IN_FLIGHT_SECONDS}")
    metrics_bind = env_value(container, "METRICS_BIND", "")
    metrics_port = ports.get("metrics")
    if metrics_port is None or not metrics_bind.endswith(f":{metrics_port}"):
        problems.append(f"{where}: METRICS_BIND {metrics_bind!r} must listen on the port named metrics")
    wanted = {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics_port),
              "prometheus.io/path": "/metrics"}
    for key, value in wanted.items():
        if annotations.get(key) != value:
            problems.append(f"{where}: pod annotation {key} must be {value!r}")
    check_pod(where, pod, problems)

    def find(kind, test):
        return [o for o in objects if o["kind"] == kind and test(o)]

    services = find("Service", lambda s: s["spec"].get("selector") and all(
        labels.get(k) == v for k, v in s["spec"]["selector"].items()))
    if not services:
        problems.append(f"{where}: no Service selects it")
    for s in services:
        for p in s["spec"]["ports"]:
            if p.get("targetPort") not in ports and p.get("targetPort") not in ports.values():
                problems.append(f"Service {s['metadata']['name']}: targetPort {p.get('targetPort')!r} "
                                f"is no port of {where}")
    hpas = find("HorizontalPodAutoscaler", lambda h: h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
                and h["spec"]["scaleTargetRef"]["name"] == name)
    if len(hpas) != 1:
        problems.append(f"{where}: {len(hpas)} HorizontalPodAutoscalers target it, not 1")
    elif hpas[0]["spec"].get("minReplicas", 1) < 2:
        problems.append(f"{where}: its autoscaler's minReplicas must be at least 2")
    if not find("PodDisruptionBudget", lambda p: selects(p["spec"].get("selector"), labels)):
        problems.append(f"{where}: no PodDisruptionBudget selects it")
    return hpas


def check_installation(objects, deployments, problems):
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    for o in objects:
        if o["kind"] not in ("Deployment", "Job"):
            continue
        for c in o["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if not ref:
                    continue
                secret = secrets.get(ref["name"])
                keys = {**(secret or {}).get("data", {}), **(secret or {}).get("stringData", {})}
                if ref["key"] not in keys:
                    problems.append(f"{o['kind']} {o['metadata']['name']}: {e['name']} reads "
                                    f"{ref['name']}/{ref['key']}, which this installation lacks")
    connections = DEFAULT_POOL_SIZE
    for d, hpas in deployments:
        (container,) = d["spec"]["template"]["spec"]["containers"]
        pool = int(env_value(container, "DATABASE_POOL_SIZE", str(DEFAULT_POOL_SIZE)))
        surge = d["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
        most = max((h["spec"]["maxReplicas"] for h in hpas), default=0)
        if not isinstance(surge, int):
            problems.append(f"Deployment {d['metadata']['name']}: maxSurge must be a count")
            continue
        connections += (most + surge) * pool
        issuer = env_value(container, "AUTH_ISSUER")
        if container["name"] == "auth-server" and not (issuer or "").startswith("https://"):
            problems.append(f"Deployment {d['metadata']['name']}: AUTH_ISSUER must be an https URL")
    if connections > MAX_CONNECTIONS:
        problems.append(f"at the autoscalers' maximum the pools open {connections} database "
                        f"connections, more than PostgreSQL's default {MAX_CONNECTIONS}")


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--installation"):
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    problems = []
    deployments = [(d, check_deployment(d, objects, problems))
                   for d in objects if d["kind"] == "Deployment"]
    for job in (o for o in objects if o["kind"] == "Job"):
        check_pod(f"Job {job['metadata']['name']}", job["spec"]["template"], problems)
    if len(argv) == 3:
        check_installation(objects, deployments, problems)
    for p in problems:
        print(f"{argv[1]}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
