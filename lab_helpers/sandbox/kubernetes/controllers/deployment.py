"""The Deployment controller: one ReplicaSet per pod template (named ``<deployment>-<hash>``), rolled
out with RollingUpdate (within maxSurge/maxUnavailable) or Recreate, scaled in proportion mid-rollout,
paused and resumed, old ReplicaSets trimmed to ``revisionHistoryLimit``, and the status and conditions
``kubectl rollout status`` reads. ``kubectl rollout undo`` patches the template of an old ReplicaSet
back in; that ReplicaSet then becomes the new one and takes the next revision (its old one kept in
``deployment.kubernetes.io/revision-history``), as in the real controller."""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ApiError
from ..events import record
from ..resources import by_plural
from . import rollout, selectors
from .common import (
    Obj,
    clone,
    controlled_by,
    controller_ref,
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    parse_time,
    terminal,
    uid_of,
)
from .loop import Change, Controller, Key, api_code
from .rollout import replicas, status_of

DEPLOYMENTS = by_plural("deployments", "apps")
RS = by_plural("replicasets", "apps")
PODS = by_plural("pods")
COMPONENT = "deployment-controller"


class _Pass:
    """One reconcile of one Deployment: the latest saved Deployment and ReplicaSets, and the steps that change them."""

    def __init__(self, ctl: DeploymentController, d: Obj, rs_list: list[Obj]) -> None:
        self.ctl = ctl
        self.objects = ctl.objects
        self.d = d
        self.rs = {name_of(rs): rs for rs in rs_list}
        self.new_name: str | None = None

    # -- bookkeeping ---------------------------------------------------------------------------
    def event(self, reason: str, message: str, type: str = "Normal") -> None:
        record(self.objects, self.d, reason, message, type=type, component=COMPONENT)

    def save_rs(self, rs: Obj) -> Obj:
        saved = self.objects.update(RS, rs)
        self.rs[name_of(saved)] = saved
        return saved

    def save_d(self, d: Obj) -> None:
        self.d = self.objects.update(DEPLOYMENTS, d)

    @property
    def new(self) -> Obj | None:
        return self.rs.get(self.new_name) if self.new_name else None

    @property
    def olds(self) -> list[Obj]:
        return rollout.by_age([rs for name, rs in self.rs.items() if name != self.new_name])

    @property
    def all(self) -> list[Obj]:
        new = self.new
        return self.olds + ([new] if new is not None else [])

    # -- the new ReplicaSet ----------------------------------------------------------------------
    def sync_revision(self, create: bool) -> None:
        """``getAllReplicaSetsAndSyncRevision``: find (or make) the new ReplicaSet and bring revisions up to date."""
        found = rollout.find_new(self.d, list(self.rs.values()))
        self.new_name = name_of(found) if found is not None else None
        max_old = max((rollout.revision(rs) for rs in self.olds), default=0)
        if found is not None:
            rs = clone(found)
            changed = rollout.set_new_rs_annotations(self.d, rs, max_old + 1, exists=True)
            min_ready = (self.d.get("spec") or {}).get("minReadySeconds", 0)
            if (rs.get("spec") or {}).get("minReadySeconds", 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                changed = True
            if changed:
                found = self.save_rs(rs)
            d = clone(self.d)
            needs = self._set_revision(d, rollout.notes_of(found).get(rollout.REVISION, ""))
            status = d.setdefault("status", {})
            if rollout.progress_deadline(d) is not None and rollout.condition_of(status, "Progressing") is None:
                msg = f'Found new replica set "{name_of(found)}"'
                rollout.set_deployment_condition(
                    status, rollout.deployment_condition("Progressing", "True", "FoundNewReplicaSet", msg)
                )
                needs = True
            if needs:
                self.save_d(d)
            return
        if create and not self.ctl.namespace_closing(namespace_of(self.d)):
            self._create_new(max_old + 1)

    @staticmethod
    def _set_revision(d: Obj, revision: str) -> bool:
        notes = d["metadata"].setdefault("annotations", {})
        if not revision or notes.get(rollout.REVISION) == revision:
            return False
        notes[rollout.REVISION] = revision
        return True

    def _create_new(self, new_revision: int) -> None:
        d = self.d
        spec = d.get("spec") or {}
        template = clone(spec.get("template") or {})
        collisions = (d.get("status") or {}).get("collisionCount")
        hash_ = rollout.template_hash(template, collisions)
        template.setdefault("metadata", {})
        template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}), rollout.HASH_LABEL: hash_}
        selector = clone(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), rollout.HASH_LABEL: hash_}
        rs: Obj = {
            "apiVersion": RS.api_version,
            "kind": RS.kind,
            "metadata": {
                "name": f"{name_of(d)}-{hash_}",
                "namespace": namespace_of(d),
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [owner_ref(d, DEPLOYMENTS)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": spec.get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        count = rollout.new_rs_replicas(d, self.olds + [rs], rs)
        rs["spec"]["replicas"] = count
        rollout.set_new_rs_annotations(d, rs, new_revision, exists=False)
        try:
            saved = self.ctl.create(RS, rs)
        except ApiError as err:
            if api_code(err) != 409:
                raise
            existing = self.objects.get(RS, namespace_of(d), name_of(rs))
            template_now = (existing or {}).get("spec", {}).get("template") or {}
            if (
                existing is not None
                and controlled_by(existing, d)
                and rollout.equal_ignore_hash(template_now, spec.get("template") or {})
            ):
                self.rs[name_of(existing)] = existing
                self.new_name = name_of(existing)
                return
            changed = clone(d)  # a hash collision with someone else's ReplicaSet: the next hash differs
            status = changed.setdefault("status", {})
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            self.save_d(changed)
            raise
        self.rs[name_of(saved)] = saved
        self.new_name = name_of(saved)
        if count > 0:
            self.event("ScalingReplicaSet", f"Scaled up replica set {name_of(saved)} to {count}")
        changed = clone(self.d)
        self._set_revision(changed, str(new_revision))
        if rollout.progress_deadline(changed) is not None:
            msg = f'Created new replica set "{name_of(saved)}"'
            rollout.set_deployment_condition(
                changed.setdefault("status", {}),
                rollout.deployment_condition("Progressing", "True", "NewReplicaSetCreated", msg),
            )
        self.save_d(changed)

    # -- scaling ------------------------------------------------------------------------------
    def scale(self, rs: Obj, size: int, operation: str = "") -> bool:
        """``scaleReplicaSet``: the size and the replica annotations; an event when the size changes."""
        d = self.d
        desired, most = replicas(d), replicas(d) + rollout.max_surge(d)
        old = replicas(rs)
        if old == size and not rollout.replicas_annotations_stale(rs, desired, most):
            return False
        changed = clone(rs)
        changed["spec"]["replicas"] = size
        rollout.set_replicas_annotations(changed, desired, most)
        self.save_rs(changed)
        if old != size:
            operation = operation or ("up" if old < size else "down")
            self.event("ScalingReplicaSet", f"Scaled {operation} replica set {name_of(rs)} to {size} from {old}")
        return True

    def scale_and_record(self, rs: Obj, size: int) -> bool:
        if replicas(rs) == size:
            return False
        return self.scale(rs, size)

    def proportional(self) -> None:
        """``scale``: a scaled Deployment's replicas spread over its active ReplicaSets."""
        d, new, olds = self.d, self.new, self.olds
        latest = rollout.active(list(reversed(olds)) + ([new] if new is not None else []))
        if len(latest) <= 1:
            target = latest[0] if latest else (new if new is not None else (olds[-1] if olds else None))
            if target is not None and replicas(target) != replicas(d):
                self.scale_and_record(target, replicas(d))
            return
        if rollout.saturated(d, new):
            for rs in rollout.active(olds):
                self.scale_and_record(rs, 0)
            return
        if not rollout.rolling(d):
            return
        members = rollout.active(self.all)
        allowed = replicas(d) + rollout.max_surge(d) if replicas(d) > 0 else 0
        to_add = allowed - rollout.total(members)
        if to_add > 0:
            members.sort(key=lambda rs: (-replicas(rs), -(parse_time(rs["metadata"].get("creationTimestamp")) or 0)))
            operation = "up"
        elif to_add < 0:
            members.sort(key=lambda rs: (-replicas(rs), parse_time(rs["metadata"].get("creationTimestamp")) or 0))
            operation = "down"
        else:
            operation = ""
        added, sizes = 0, {}
        for rs in members:
            share = rollout.proportion(rs, d, to_add, added) if to_add else 0
            sizes[name_of(rs)] = replicas(rs) + share
            added += share
        for i, rs in enumerate(members):
            size = sizes[name_of(rs)]
            if i == 0 and to_add:
                size = max(0, size + to_add - added)
            self.scale(rs, size, operation)

    # -- rolling update ---------------------------------------------------------------------------
    def reconcile_new(self) -> bool:
        new = self.new
        if new is None:
            return False
        want = replicas(self.d)
        if replicas(new) == want:
            return False
        if replicas(new) > want:
            return self.scale_and_record(new, want)
        return self.scale_and_record(new, rollout.new_rs_replicas(self.d, self.all, new))

    def reconcile_olds(self) -> bool:
        olds = rollout.active(self.olds)
        if rollout.total(olds) == 0:
            return False
        new = self.new
        min_available = replicas(self.d) - rollout.max_unavailable(self.d)
        new_unavailable = replicas(new) - status_of(new, "availableReplicas")
        room = rollout.total(self.all) - min_available - new_unavailable
        if room <= 0:
            return False
        cleaned = 0
        for rs in rollout.by_age(olds):  # first the old pods that are not available anyway
            if cleaned >= room:
                break
            spare = replicas(rs) - status_of(rs, "availableReplicas")
            if replicas(rs) == 0 or spare <= 0:
                continue
            cut = min(room - cleaned, spare)
            self.scale_and_record(self.rs[name_of(rs)], replicas(rs) - cut)
            cleaned += cut
        # A ReplicaSet just scaled down still reports the pods it is deleting as available until its own
        # controller catches up: counting them would cut again and dip below maxUnavailable's floor.
        available = sum(min(replicas(rs), status_of(rs, "availableReplicas")) for rs in self.all)
        scaled = 0
        if available > min_available:
            budget = available - min_available
            for rs in rollout.by_age(rollout.active(self.olds)):
                if scaled >= budget:
                    break
                cut = min(replicas(rs), budget - scaled)
                self.scale_and_record(rs, replicas(rs) - cut)
                scaled += cut
        return cleaned + scaled > 0

    def cleanup(self) -> None:
        """Old ReplicaSets beyond ``revisionHistoryLimit`` (oldest revisions first) that have nothing left."""
        limit = (self.d.get("spec") or {}).get("revisionHistoryLimit", 10)
        if limit is None:
            return
        cleanable = rollout.alive(self.olds)
        extra = len(cleanable) - int(limit)
        if extra <= 0:
            return
        for rs in sorted(cleanable, key=lambda r: (rollout.revision(r), name_of(r)))[:extra]:
            gen = int(rs["metadata"].get("generation") or 0)
            if status_of(rs, "replicas") or replicas(rs) or gen > status_of(rs, "observedGeneration"):
                continue
            try:
                self.objects.delete(RS, namespace_of(rs), name_of(rs))
            except ApiError as err:
                if api_code(err) != 404:
                    raise
            self.rs.pop(name_of(rs), None)

    # -- status ---------------------------------------------------------------------------------
    def calculate_status(self) -> Obj:
        d, all_rs, new = self.d, self.all, self.new
        available = rollout.total(all_rs, "availableReplicas")
        counts = {
            "observedGeneration": int(d["metadata"].get("generation") or 1),
            "replicas": rollout.total(all_rs, "replicas"),
            "updatedReplicas": status_of(new, "replicas"),
            "readyReplicas": rollout.total(all_rs, "readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(0, rollout.total(all_rs) - available),
        }
        status: Obj = {k: v for k, v in counts.items() if v}
        status["terminatingReplicas"] = rollout.total(all_rs, "terminatingReplicas")
        old = d.get("status") or {}
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        status["conditions"] = [dict(c) for c in old.get("conditions") or []]
        if available >= replicas(d) - rollout.max_unavailable(d):
            cond = rollout.deployment_condition(
                "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
            )
        else:
            cond = rollout.deployment_condition(
                "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
            )
        rollout.set_deployment_condition(status, cond)
        return status

    def write_status(self, status: Obj) -> None:
        if not status.get("conditions"):
            status.pop("conditions", None)
        if status != (self.d.get("status") or {}):
            changed = clone(self.d)
            changed["status"] = status
            self.save_d(changed)

    def sync_status(self) -> None:
        self.write_status(self.calculate_status())

    def sync_rollout_status(self, now: float) -> float | None:
        """``syncRolloutStatus``: counts, Available, and Progressing (progressing, complete, or timed out)."""
        d, new = self.d, self.new
        status = self.calculate_status()
        deadline = rollout.progress_deadline(d)
        if deadline is None:
            rollout.remove_condition(status, "Progressing")
        current = rollout.condition_of(d.get("status") or {}, "Progressing")
        is_complete = (
            status.get("replicas", 0) == status.get("updatedReplicas", 0)
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        if deadline is not None and not is_complete:
            subject = f'ReplicaSet "{name_of(new)}"' if new is not None else f'Deployment "{name_of(d)}"'
            if rollout.complete(d, status):
                rollout.set_deployment_condition(
                    status,
                    rollout.deployment_condition(
                        "Progressing", "True", "NewReplicaSetAvailable", f"{subject} has successfully progressed."
                    ),
                )
            elif rollout.progressing(d, status):
                cond = rollout.deployment_condition(
                    "Progressing", "True", "ReplicaSetUpdated", f"{subject} is progressing."
                )
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    rollout.remove_condition(status, "Progressing")
                rollout.set_deployment_condition(status, cond)
            elif rollout.timed_out(d, status, now):
                rollout.set_deployment_condition(
                    status,
                    rollout.deployment_condition(
                        "Progressing", "False", "ProgressDeadlineExceeded", f"{subject} has timed out progressing."
                    ),
                )
        self.write_status(status)
        progress = rollout.condition_of(self.d.get("status") or {}, "Progressing")
        if (
            deadline is not None
            and progress
            and progress.get("status") == "True"
            and not rollout.complete(self.d, status)
        ):
            since = parse_time(progress.get("lastUpdateTime")) or now
            return max(1.0, since + deadline - now + 1)
        return None


class DeploymentController(Controller):
    name = COMPONENT

    def observe(self, change: Change) -> None:
        if change.res is DEPLOYMENTS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res is RS:
            ns = namespace_of(change.obj)
            for rs in (change.old, change.obj):
                ref = controller_ref(rs) if rs else None
                if ref and ref.get("kind") == "Deployment":
                    self.queue.add((ns, str(ref.get("name"))))
            if change.type != "DELETED" and controller_ref(change.obj) is None:
                self._queue_selecting(ns, change.obj)
        elif change.res is PODS and (change.type == "DELETED" or terminal(change.obj)):
            ref = controller_ref(change.obj)  # Recreate waits for the old pods to be gone
            if ref and ref.get("kind") == "ReplicaSet":
                rs = self.cache.get(RS, namespace_of(change.obj), str(ref.get("name")))
                owner = controller_ref(rs) if rs else None
                if owner and owner.get("kind") == "Deployment":
                    self.queue.add((namespace_of(change.obj), str(owner.get("name"))))

    def _queue_selecting(self, ns: str, rs: Obj) -> None:
        labels = rs.get("metadata", {}).get("labels") or {}
        for d in self.cache.list(DEPLOYMENTS, ns):
            if selectors.label_selector((d.get("spec") or {}).get("selector"), labels):
                self.queue.add((ns, name_of(d)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(d), name_of(d)) for d in self.cache.list(DEPLOYMENTS)]

    def _claim(self, d: Obj) -> list[Obj]:
        """The Deployment's ReplicaSets, adopting orphans its selector matches and releasing those it no longer does."""
        selector = (d.get("spec") or {}).get("selector")
        owned = []
        for rs in self.cache.list(RS, namespace_of(d)):
            ref = controller_ref(rs)
            matches = selectors.label_selector(selector, rs.get("metadata", {}).get("labels"))
            if ref is not None and ref.get("uid") == uid_of(d):
                if matches:
                    owned.append(rs)
                elif not deleting(rs):
                    changed = clone(rs)
                    changed["metadata"]["ownerReferences"] = [
                        r for r in changed["metadata"]["ownerReferences"] if r.get("uid") != uid_of(d)
                    ]
                    self.objects.update(RS, changed)
            elif ref is None and matches and not deleting(d) and not deleting(rs):
                changed = clone(rs)
                changed["metadata"].setdefault("ownerReferences", []).append(owner_ref(d, DEPLOYMENTS))
                owned.append(self.objects.update(RS, changed))
        return owned

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        d = self.cache.get(DEPLOYMENTS, ns, name)
        if d is None:
            return None
        spec = d.get("spec") or {}
        if selectors.is_everything(spec.get("selector")):
            record(
                self.objects,
                d,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
                type="Warning",
                component=COMPONENT,
            )
            return None
        run = _Pass(self, d, self._claim(d))
        if deleting(d):
            run.sync_revision(create=False)
            run.sync_status()
            return None
        self._paused_condition(run)
        if (run.d.get("spec") or {}).get("paused"):
            return self._sync(run)
        if self._scaling_event(run):
            return self._sync(run)
        if not rollout.rolling(run.d):
            return self._recreate(run)
        return self._rolling(run)

    @staticmethod
    def _paused_condition(run: _Pass) -> None:
        d = run.d
        if rollout.progress_deadline(d) is None:
            return
        cond = rollout.condition_of(d.get("status") or {}, "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_now = bool((d.get("spec") or {}).get("paused"))
        marked = cond is not None and cond.get("reason") == "DeploymentPaused"
        if paused_now == marked:
            return
        changed = clone(d)
        reason, message = (
            ("DeploymentPaused", "Deployment is paused")
            if paused_now
            else ("DeploymentResumed", "Deployment is resumed")
        )
        rollout.set_deployment_condition(
            changed.setdefault("status", {}), rollout.deployment_condition("Progressing", "Unknown", reason, message)
        )
        run.save_d(changed)

    @staticmethod
    def _scaling_event(run: _Pass) -> bool:
        run.sync_revision(create=False)
        for rs in rollout.active(run.all):
            desired = rollout.notes_of(rs).get(rollout.DESIRED)
            if desired is not None and desired.isdigit() and int(desired) != replicas(run.d):
                return True
        return False

    def _sync(self, run: _Pass) -> float | None:
        run.sync_revision(create=False)
        run.proportional()
        if (run.d.get("spec") or {}).get("paused"):
            run.cleanup()
        run.sync_status()
        return None

    def _rolling(self, run: _Pass) -> float | None:
        now = self.ctx.now()
        run.sync_revision(create=True)
        if run.reconcile_new():
            return run.sync_rollout_status(now)
        if run.reconcile_olds():
            return run.sync_rollout_status(now)
        if rollout.complete(run.d, run.d.get("status") or {}):
            run.cleanup()
        return run.sync_rollout_status(now)

    def _recreate(self, run: _Pass) -> float | None:
        now = self.ctx.now()
        run.sync_revision(create=False)
        scaled = False
        for rs in rollout.active(run.olds):
            scaled = run.scale_and_record(rs, 0) or scaled
        if scaled or self._old_pods_running(run):
            return run.sync_rollout_status(now)
        if run.new is None:
            run.sync_revision(create=True)
        if run.new is not None:
            run.scale_and_record(run.new, replicas(run.d))
        if rollout.complete(run.d, run.d.get("status") or {}):
            run.cleanup()
        return run.sync_rollout_status(now)

    def _old_pods_running(self, run: _Pass) -> bool:
        if rollout.total(run.olds, "replicas") > 0:
            return True
        olds = {uid_of(rs) for rs in run.olds}
        for pod in self.cache.list(PODS, namespace_of(run.d)):
            ref = controller_ref(pod)
            if ref and ref.get("uid") in olds and not terminal(pod):
                return True
        return False
