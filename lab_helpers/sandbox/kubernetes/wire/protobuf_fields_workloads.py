"""Protobuf field numbers of the workloads kinds that typed clients send (``kubectl create ...``), in the
format of ``protobuf_fields.TABLE``; ``ROOT_KINDS`` are the kinds a body may carry.

Read from k8s.io/api's ``generated.proto`` at v0.35.2: batch/v1 (CronJob: ``kubectl create cronjob``),
autoscaling/v2 (HorizontalPodAutoscaler: ``kubectl autoscale``), core/v1 (ResourceQuota: ``kubectl
create quota``; LimitRange).
"""

TABLE = """
[PodDisruptionBudget]
1 metadata ObjectMeta
2 spec PodDisruptionBudgetSpec
3 status PodDisruptionBudgetStatus
[PodDisruptionBudgetSpec]
1 minAvailable IntOrString keep
2 selector LabelSelector keep
3 maxUnavailable IntOrString keep
4 unhealthyPodEvictionPolicy string keep
[PodDisruptionBudgetStatus]
1 observedGeneration int64
2 disruptedPods map:string:Time
3 disruptionsAllowed int32 keep
4 currentHealthy int32 keep
5 desiredHealthy int32 keep
6 expectedPods int32 keep
7 conditions Condition []
[Eviction]
1 metadata ObjectMeta
2 deleteOptions DeleteOptions keep
[CronJob]
1 metadata ObjectMeta
2 spec CronJobSpec
3 status CronJobStatus
[CronJobSpec]
1 schedule string keep
8 timeZone string keep
2 startingDeadlineSeconds int64 keep
3 concurrencyPolicy string
4 suspend bool keep
5 jobTemplate JobTemplateSpec keep
6 successfulJobsHistoryLimit int32 keep
7 failedJobsHistoryLimit int32 keep
[JobTemplateSpec]
1 metadata ObjectMeta
2 spec JobSpec
[CronJobStatus]
1 active ObjectReference []
4 lastScheduleTime Time keep
5 lastSuccessfulTime Time keep
[HorizontalPodAutoscaler]
1 metadata ObjectMeta
2 spec HorizontalPodAutoscalerSpec
3 status HorizontalPodAutoscalerStatus
[HorizontalPodAutoscalerSpec]
1 scaleTargetRef CrossVersionObjectReference keep
2 minReplicas int32 keep
3 maxReplicas int32 keep
4 metrics MetricSpec []
5 behavior HorizontalPodAutoscalerBehavior
[CrossVersionObjectReference]
1 kind string keep
2 name string keep
3 apiVersion string
[MetricSpec]
1 type string keep
4 resource ResourceMetricSource
7 containerResource ContainerResourceMetricSource
[ResourceMetricSource]
1 name string keep
2 target MetricTarget keep
[ContainerResourceMetricSource]
1 name string keep
2 target MetricTarget keep
3 container string keep
[MetricTarget]
1 type string keep
2 value Quantity
3 averageValue Quantity
4 averageUtilization int32 keep
[HorizontalPodAutoscalerBehavior]
1 scaleUp HPAScalingRules
2 scaleDown HPAScalingRules
[HPAScalingRules]
3 stabilizationWindowSeconds int32 keep
1 selectPolicy string keep
2 policies HPAScalingPolicy []
4 tolerance Quantity
[HPAScalingPolicy]
1 type string keep
2 value int32 keep
3 periodSeconds int32 keep
[HorizontalPodAutoscalerStatus]
1 observedGeneration int64 keep
2 lastScaleTime Time keep
3 currentReplicas int32
4 desiredReplicas int32 keep
[ResourceQuota]
1 metadata ObjectMeta
2 spec ResourceQuotaSpec
3 status ResourceQuotaStatus
[ResourceQuotaSpec]
1 hard map:string:Quantity
2 scopes string []
3 scopeSelector ScopeSelector
[ScopeSelector]
1 matchExpressions ScopedResourceSelectorRequirement []
[ScopedResourceSelectorRequirement]
1 scopeName string keep
2 operator string keep
3 values string []
[ResourceQuotaStatus]
1 hard map:string:Quantity
2 used map:string:Quantity
[LimitRange]
1 metadata ObjectMeta
2 spec LimitRangeSpec
[LimitRangeSpec]
1 limits LimitRangeItem []
[LimitRangeItem]
1 type string keep
2 max map:string:Quantity
3 min map:string:Quantity
4 default map:string:Quantity
5 defaultRequest map:string:Quantity
6 maxLimitRequestRatio map:string:Quantity
"""

ROOT_KINDS: tuple[str, ...] = (
    "CronJob",
    "HorizontalPodAutoscaler",
    "ResourceQuota",
    "LimitRange",
    "PodDisruptionBudget",
    "Eviction",
)
