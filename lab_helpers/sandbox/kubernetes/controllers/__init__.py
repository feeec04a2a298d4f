"""The controllers and the scheduler: Deployment -> ReplicaSet -> Pods, Jobs, endpoints, garbage
collection, namespaces, service accounts, node taints and evictions, Events. Each is a thread of the sandbox
service sharing one cache of the cluster (``loop.py``)."""

from __future__ import annotations

import threading
from pathlib import Path

from ..objects import Objects
from .autoscaler import HorizontalPodAutoscalerController
from .clusterroles import ClusterRoleAggregationController
from .crds import CustomResourceDefinitionController
from .cronjob import CronJobController
from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .disruption import DisruptionController
from .endpoints import EndpointsController
from .garbage import GarbageCollector
from .gitops import ApplicationController, ApplicationSetController, PromotionController
from .ingress import IngressController
from .job import JobController
from .loop import Manager, Settings
from .namespace import NamespaceController
from .nodes import NodeLifecycle, PodGC, TaintEviction
from .quota import ResourceQuotaController
from .replicaset import ReplicaSetController
from .scheduler import Scheduler
from .serviceaccounts import ServiceAccountController
from .statefulset import StatefulSetController
from .volumes import PersistentVolumeController

KINDS = (
    Scheduler,
    ReplicaSetController,
    DeploymentController,
    JobController,
    EndpointsController,
    GarbageCollector,
    NamespaceController,
    ServiceAccountController,
    NodeLifecycle,
    TaintEviction,
    PodGC,
    DaemonSetController,
    StatefulSetController,
    CronJobController,
    HorizontalPodAutoscalerController,
    ResourceQuotaController,
    DisruptionController,
    PersistentVolumeController,
    IngressController,
    CustomResourceDefinitionController,
    ClusterRoleAggregationController,
    ApplicationController,
    PromotionController,
    ApplicationSetController,
)


def start(objects: Objects, state_dir: Path, stopping: threading.Event, settings: Settings | None = None) -> Manager:
    """Start every controller thread; they stop when ``stopping`` is set."""
    manager = Manager(objects, state_dir, stopping, KINDS, settings)
    manager.start()
    return manager
