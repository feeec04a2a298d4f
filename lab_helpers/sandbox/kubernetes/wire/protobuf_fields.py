"""Field numbers of the Kubernetes protobuf messages that typed clients send, as data.

One block per message: ``[Name]`` then one line per field, ``<number> <json name> <type> [flags]``.
Types are protobuf scalars (``string``, ``bytes``, ``int32``, ``int64``, ``bool``), another message
of this table, ``map:<key>:<value>``, or one of the apimachinery types the decoder knows by name
(Time, MicroTime, Quantity, IntOrString, FieldsV1, RawExtension, Duration). Flags: ``[]`` repeated;
``inline`` the message's fields sit in the parent's JSON object (``Volume`` holds its
``VolumeSource``); ``keep`` the JSON keeps a zero value (a pointer field, or one without
``omitempty``: ``replicas: 0`` is not ``replicas`` unset). Other zero scalars are left out, as the
JSON encoding leaves them out.

Facts read from the ``generated.proto`` and ``types.go`` files of k8s.io/api (core/v1, apps/v1,
batch/v1) and k8s.io/apimachinery (meta/v1) at v0.35.2, for the messages reachable from Namespace,
ConfigMap, Secret, ServiceAccount, Service, Pod, Event, Endpoints, Node, Deployment, ReplicaSet, Job
and DeleteOptions. A field added later is skipped by the decoder, as unknown fields are.
"""

TABLE = """
[Namespace]
1 metadata ObjectMeta
2 spec NamespaceSpec
3 status NamespaceStatus
[ObjectMeta]
1 name string
2 generateName string
3 namespace string
4 selfLink string
5 uid string
6 resourceVersion string
7 generation int64
8 creationTimestamp Time
9 deletionTimestamp Time keep
10 deletionGracePeriodSeconds int64 keep
11 labels map:string:string
12 annotations map:string:string
13 ownerReferences OwnerReference []
14 finalizers string []
17 managedFields ManagedFieldsEntry []
[OwnerReference]
5 apiVersion string keep
1 kind string keep
3 name string keep
4 uid string keep
6 controller bool keep
7 blockOwnerDeletion bool keep
[ManagedFieldsEntry]
1 manager string
2 operation string
3 apiVersion string
4 time Time keep
6 fieldsType string
7 fieldsV1 FieldsV1 keep
8 subresource string
[NamespaceSpec]
1 finalizers string []
[NamespaceStatus]
1 phase string
2 conditions NamespaceCondition []
[NamespaceCondition]
1 type string keep
2 status string keep
4 lastTransitionTime Time
5 reason string
6 message string
[ConfigMap]
1 metadata ObjectMeta
4 immutable bool keep
2 data map:string:string
3 binaryData map:string:bytes
[Secret]
1 metadata ObjectMeta
5 immutable bool keep
2 data map:string:bytes
4 stringData map:string:string
3 type string
[ServiceAccount]
1 metadata ObjectMeta
2 secrets ObjectReference []
3 imagePullSecrets LocalObjectReference []
4 automountServiceAccountToken bool keep
[ObjectReference]
1 kind string
2 namespace string
3 name string
4 uid string
5 apiVersion string
6 resourceVersion string
7 fieldPath string
[LocalObjectReference]
1 name string
[Service]
1 metadata ObjectMeta
2 spec ServiceSpec
3 status ServiceStatus
[ServiceSpec]
1 ports ServicePort []
2 selector map:string:string
3 clusterIP string
18 clusterIPs string []
4 type string
5 externalIPs string []
7 sessionAffinity string
8 loadBalancerIP string
9 loadBalancerSourceRanges string []
10 externalName string
11 externalTrafficPolicy string
12 healthCheckNodePort int32
13 publishNotReadyAddresses bool
14 sessionAffinityConfig SessionAffinityConfig keep
19 ipFamilies string []
17 ipFamilyPolicy string keep
20 allocateLoadBalancerNodePorts bool keep
21 loadBalancerClass string keep
22 internalTrafficPolicy string keep
23 trafficDistribution string keep
[ServicePort]
1 name string
2 protocol string
6 appProtocol string keep
3 port int32 keep
4 targetPort IntOrString
5 nodePort int32
[SessionAffinityConfig]
1 clientIP ClientIPConfig keep
[ClientIPConfig]
1 timeoutSeconds int32 keep
[ServiceStatus]
1 loadBalancer LoadBalancerStatus
2 conditions Condition []
[LoadBalancerStatus]
1 ingress LoadBalancerIngress []
[LoadBalancerIngress]
1 ip string
2 hostname string
3 ipMode string keep
4 ports PortStatus []
[PortStatus]
1 port int32 keep
2 protocol string keep
3 error string keep
[Condition]
1 type string keep
2 status string keep
3 observedGeneration int64
4 lastTransitionTime Time keep
5 reason string keep
6 message string keep
[Pod]
1 metadata ObjectMeta
2 spec PodSpec
3 status PodStatus
[PodSpec]
1 volumes Volume []
20 initContainers Container []
2 containers Container [] keep
34 ephemeralContainers EphemeralContainer []
3 restartPolicy string
4 terminationGracePeriodSeconds int64 keep
5 activeDeadlineSeconds int64 keep
6 dnsPolicy string
7 nodeSelector map:string:string
8 serviceAccountName string
9 serviceAccount string
21 automountServiceAccountToken bool keep
10 nodeName string
11 hostNetwork bool
12 hostPID bool
13 hostIPC bool
27 shareProcessNamespace bool keep
14 securityContext PodSecurityContext keep
15 imagePullSecrets LocalObjectReference []
16 hostname string
17 subdomain string
18 affinity Affinity keep
19 schedulerName string
22 tolerations Toleration []
23 hostAliases HostAlias []
24 priorityClassName string
25 priority int32 keep
26 dnsConfig PodDNSConfig keep
28 readinessGates PodReadinessGate []
29 runtimeClassName string keep
30 enableServiceLinks bool keep
31 preemptionPolicy string keep
32 overhead map:string:Quantity
33 topologySpreadConstraints TopologySpreadConstraint []
35 setHostnameAsFQDN bool keep
36 os PodOS keep
37 hostUsers bool keep
38 schedulingGates PodSchedulingGate []
39 resourceClaims PodResourceClaim []
40 resources ResourceRequirements keep
41 hostnameOverride string keep
42 workloadRef WorkloadReference keep
[Volume]
1 name string keep
2 volumeSource VolumeSource inline
[VolumeSource]
1 hostPath HostPathVolumeSource keep
2 emptyDir EmptyDirVolumeSource keep
3 gcePersistentDisk GCEPersistentDiskVolumeSource keep
4 awsElasticBlockStore AWSElasticBlockStoreVolumeSource keep
5 gitRepo GitRepoVolumeSource keep
6 secret SecretVolumeSource keep
7 nfs NFSVolumeSource keep
8 iscsi ISCSIVolumeSource keep
9 glusterfs GlusterfsVolumeSource keep
10 persistentVolumeClaim PersistentVolumeClaimVolumeSource keep
11 rbd RBDVolumeSource keep
12 flexVolume FlexVolumeSource keep
13 cinder CinderVolumeSource keep
14 cephfs CephFSVolumeSource keep
15 flocker FlockerVolumeSource keep
16 downwardAPI DownwardAPIVolumeSource keep
17 fc FCVolumeSource keep
18 azureFile AzureFileVolumeSource keep
19 configMap ConfigMapVolumeSource keep
20 vsphereVolume VsphereVirtualDiskVolumeSource keep
21 quobyte QuobyteVolumeSource keep
22 azureDisk AzureDiskVolumeSource keep
23 photonPersistentDisk PhotonPersistentDiskVolumeSource keep
26 projected ProjectedVolumeSource keep
24 portworxVolume PortworxVolumeSource keep
25 scaleIO ScaleIOVolumeSource keep
27 storageos StorageOSVolumeSource keep
28 csi CSIVolumeSource keep
29 ephemeral EphemeralVolumeSource keep
30 image ImageVolumeSource keep
[HostPathVolumeSource]
1 path string keep
2 type string keep
[EmptyDirVolumeSource]
1 medium string
2 sizeLimit Quantity keep
[GCEPersistentDiskVolumeSource]
1 pdName string keep
2 fsType string
3 partition int32
4 readOnly bool
[AWSElasticBlockStoreVolumeSource]
1 volumeID string keep
2 fsType string
3 partition int32
4 readOnly bool
[GitRepoVolumeSource]
1 repository string keep
2 revision string
3 directory string
[SecretVolumeSource]
1 secretName string
2 items KeyToPath []
3 defaultMode int32 keep
4 optional bool keep
[KeyToPath]
1 key string keep
2 path string keep
3 mode int32 keep
[NFSVolumeSource]
1 server string keep
2 path string keep
3 readOnly bool
[ISCSIVolumeSource]
1 targetPortal string keep
2 iqn string keep
3 lun int32 keep
4 iscsiInterface string
5 fsType string
6 readOnly bool
7 portals string []
8 chapAuthDiscovery bool
11 chapAuthSession bool
10 secretRef LocalObjectReference keep
12 initiatorName string keep
[GlusterfsVolumeSource]
1 endpoints string keep
2 path string keep
3 readOnly bool
[PersistentVolumeClaimVolumeSource]
1 claimName string keep
2 readOnly bool
[RBDVolumeSource]
1 monitors string [] keep
2 image string keep
3 fsType string
4 pool string
5 user string
6 keyring string
7 secretRef LocalObjectReference keep
8 readOnly bool
[FlexVolumeSource]
1 driver string keep
2 fsType string
3 secretRef LocalObjectReference keep
4 readOnly bool
5 options map:string:string
[CinderVolumeSource]
1 volumeID string keep
2 fsType string
3 readOnly bool
4 secretRef LocalObjectReference keep
[CephFSVolumeSource]
1 monitors string [] keep
2 path string
3 user string
4 secretFile string
5 secretRef LocalObjectReference keep
6 readOnly bool
[FlockerVolumeSource]
1 datasetName string
2 datasetUUID string
[DownwardAPIVolumeSource]
1 items DownwardAPIVolumeFile []
2 defaultMode int32 keep
[DownwardAPIVolumeFile]
1 path string keep
2 fieldRef ObjectFieldSelector keep
3 resourceFieldRef ResourceFieldSelector keep
4 mode int32 keep
[ObjectFieldSelector]
1 apiVersion string
2 fieldPath string keep
[ResourceFieldSelector]
1 containerName string
2 resource string keep
3 divisor Quantity
[FCVolumeSource]
1 targetWWNs string []
2 lun int32 keep
3 fsType string
4 readOnly bool
5 wwids string []
[AzureFileVolumeSource]
1 secretName string keep
2 shareName string keep
3 readOnly bool
[ConfigMapVolumeSource]
1 localObjectReference LocalObjectReference inline
2 items KeyToPath []
3 defaultMode int32 keep
4 optional bool keep
[VsphereVirtualDiskVolumeSource]
1 volumePath string keep
2 fsType string
3 storagePolicyName string
4 storagePolicyID string
[QuobyteVolumeSource]
1 registry string keep
2 volume string keep
3 readOnly bool
4 user string
5 group string
6 tenant string
[AzureDiskVolumeSource]
1 diskName string keep
2 diskURI string keep
3 cachingMode string keep
4 fsType string keep
5 readOnly bool keep
6 kind string keep
[PhotonPersistentDiskVolumeSource]
1 pdID string keep
2 fsType string
[ProjectedVolumeSource]
1 sources VolumeProjection [] keep
2 defaultMode int32 keep
[VolumeProjection]
1 secret SecretProjection keep
2 downwardAPI DownwardAPIProjection keep
3 configMap ConfigMapProjection keep
4 serviceAccountToken ServiceAccountTokenProjection keep
5 clusterTrustBundle ClusterTrustBundleProjection keep
6 podCertificate PodCertificateProjection keep
[SecretProjection]
1 localObjectReference LocalObjectReference inline
2 items KeyToPath []
4 optional bool keep
[DownwardAPIProjection]
1 items DownwardAPIVolumeFile []
[ConfigMapProjection]
1 localObjectReference LocalObjectReference inline
2 items KeyToPath []
4 optional bool keep
[ServiceAccountTokenProjection]
1 audience string
2 expirationSeconds int64 keep
3 path string keep
[ClusterTrustBundleProjection]
1 name string keep
2 signerName string keep
3 labelSelector LabelSelector keep
5 optional bool keep
4 path string keep
[LabelSelector]
1 matchLabels map:string:string
2 matchExpressions LabelSelectorRequirement []
[LabelSelectorRequirement]
1 key string keep
2 operator string keep
3 values string []
[PodCertificateProjection]
1 signerName string
2 keyType string
3 maxExpirationSeconds int32 keep
4 credentialBundlePath string
5 keyPath string
6 certificateChainPath string
7 userAnnotations map:string:string
[PortworxVolumeSource]
1 volumeID string keep
2 fsType string
3 readOnly bool
[ScaleIOVolumeSource]
1 gateway string keep
2 system string keep
3 secretRef LocalObjectReference keep
4 sslEnabled bool
5 protectionDomain string
6 storagePool string
7 storageMode string
8 volumeName string
9 fsType string
10 readOnly bool
[StorageOSVolumeSource]
1 volumeName string
2 volumeNamespace string
3 fsType string
4 readOnly bool
5 secretRef LocalObjectReference keep
[CSIVolumeSource]
1 driver string keep
2 readOnly bool keep
3 fsType string keep
4 volumeAttributes map:string:string
5 nodePublishSecretRef LocalObjectReference keep
[EphemeralVolumeSource]
1 volumeClaimTemplate PersistentVolumeClaimTemplate keep
[PersistentVolumeClaimTemplate]
1 metadata ObjectMeta
2 spec PersistentVolumeClaimSpec keep
[PersistentVolumeClaimSpec]
1 accessModes string []
4 selector LabelSelector keep
2 resources VolumeResourceRequirements
3 volumeName string
5 storageClassName string keep
6 volumeMode string keep
7 dataSource TypedLocalObjectReference keep
8 dataSourceRef TypedObjectReference keep
9 volumeAttributesClassName string keep
[VolumeResourceRequirements]
1 limits map:string:Quantity
2 requests map:string:Quantity
[TypedLocalObjectReference]
1 apiGroup string keep
2 kind string keep
3 name string keep
[TypedObjectReference]
1 apiGroup string keep
2 kind string keep
3 name string keep
4 namespace string keep
[ImageVolumeSource]
1 reference string
2 pullPolicy string
[Container]
1 name string keep
2 image string
3 command string []
4 args string []
5 workingDir string
6 ports ContainerPort []
19 envFrom EnvFromSource []
7 env EnvVar []
8 resources ResourceRequirements
23 resizePolicy ContainerResizePolicy []
24 restartPolicy string keep
25 restartPolicyRules ContainerRestartRule []
9 volumeMounts VolumeMount []
21 volumeDevices VolumeDevice []
10 livenessProbe Probe keep
11 readinessProbe Probe keep
22 startupProbe Probe keep
12 lifecycle Lifecycle keep
13 terminationMessagePath string
20 terminationMessagePolicy string
14 imagePullPolicy string
15 securityContext SecurityContext keep
16 stdin bool
17 stdinOnce bool
18 tty bool
[ContainerPort]
1 name string
2 hostPort int32
3 containerPort int32 keep
4 protocol string
5 hostIP string
[EnvFromSource]
1 prefix string
2 configMapRef ConfigMapEnvSource keep
3 secretRef SecretEnvSource keep
[ConfigMapEnvSource]
1 localObjectReference LocalObjectReference inline
2 optional bool keep
[SecretEnvSource]
1 localObjectReference LocalObjectReference inline
2 optional bool keep
[EnvVar]
1 name string keep
2 value string
3 valueFrom EnvVarSource keep
[EnvVarSource]
1 fieldRef ObjectFieldSelector keep
2 resourceFieldRef ResourceFieldSelector keep
3 configMapKeyRef ConfigMapKeySelector keep
4 secretKeyRef SecretKeySelector keep
5 fileKeyRef FileKeySelector keep
[ConfigMapKeySelector]
1 localObjectReference LocalObjectReference inline
2 key string keep
3 optional bool keep
[SecretKeySelector]
1 localObjectReference LocalObjectReference inline
2 key string keep
3 optional bool keep
[FileKeySelector]
1 volumeName string keep
2 path string keep
3 key string keep
4 optional bool keep
[ResourceRequirements]
1 limits map:string:Quantity
2 requests map:string:Quantity
3 claims ResourceClaim []
[ResourceClaim]
1 name string keep
2 request string
[ContainerResizePolicy]
1 resourceName string keep
2 restartPolicy string keep
[ContainerRestartRule]
1 action string
2 exitCodes ContainerRestartRuleOnExitCodes keep
[ContainerRestartRuleOnExitCodes]
1 operator string
2 values int32 []
[VolumeMount]
1 name string keep
2 readOnly bool
7 recursiveReadOnly string keep
3 mountPath string keep
4 subPath string
5 mountPropagation string keep
6 subPathExpr string
[VolumeDevice]
1 name string keep
2 devicePath string keep
[Probe]
1 handler ProbeHandler inline
2 initialDelaySeconds int32
3 timeoutSeconds int32
4 periodSeconds int32
5 successThreshold int32
6 failureThreshold int32
7 terminationGracePeriodSeconds int64 keep
[ProbeHandler]
1 exec ExecAction keep
2 httpGet HTTPGetAction keep
3 tcpSocket TCPSocketAction keep
4 grpc GRPCAction keep
[ExecAction]
1 command string []
[HTTPGetAction]
1 path string
2 port IntOrString keep
3 host string
4 scheme string
5 httpHeaders HTTPHeader []
[HTTPHeader]
1 name string keep
2 value string keep
[TCPSocketAction]
1 port IntOrString keep
2 host string
[GRPCAction]
1 port int32 keep
2 service string keep
[Lifecycle]
1 postStart LifecycleHandler keep
2 preStop LifecycleHandler keep
3 stopSignal string keep
[LifecycleHandler]
1 exec ExecAction keep
2 httpGet HTTPGetAction keep
3 tcpSocket TCPSocketAction keep
4 sleep SleepAction keep
[SleepAction]
1 seconds int64 keep
[SecurityContext]
1 capabilities Capabilities keep
2 privileged bool keep
3 seLinuxOptions SELinuxOptions keep
10 windowsOptions WindowsSecurityContextOptions keep
4 runAsUser int64 keep
8 runAsGroup int64 keep
5 runAsNonRoot bool keep
6 readOnlyRootFilesystem bool keep
7 allowPrivilegeEscalation bool keep
9 procMount string keep
11 seccompProfile SeccompProfile keep
12 appArmorProfile AppArmorProfile keep
[Capabilities]
1 add string []
2 drop string []
[SELinuxOptions]
1 user string
2 role string
3 type string
4 level string
[WindowsSecurityContextOptions]
1 gmsaCredentialSpecName string keep
2 gmsaCredentialSpec string keep
3 runAsUserName string keep
4 hostProcess bool keep
[SeccompProfile]
1 type string keep
2 localhostProfile string keep
[AppArmorProfile]
1 type string keep
2 localhostProfile string keep
[EphemeralContainer]
1 ephemeralContainerCommon EphemeralContainerCommon inline
2 targetContainerName string
[EphemeralContainerCommon]
1 name string keep
2 image string
3 command string []
4 args string []
5 workingDir string
6 ports ContainerPort []
19 envFrom EnvFromSource []
7 env EnvVar []
8 resources ResourceRequirements
23 resizePolicy ContainerResizePolicy []
24 restartPolicy string keep
25 restartPolicyRules ContainerRestartRule []
9 volumeMounts VolumeMount []
21 volumeDevices VolumeDevice []
10 livenessProbe Probe keep
11 readinessProbe Probe keep
22 startupProbe Probe keep
12 lifecycle Lifecycle keep
13 terminationMessagePath string
20 terminationMessagePolicy string
14 imagePullPolicy string
15 securityContext SecurityContext keep
16 stdin bool
17 stdinOnce bool
18 tty bool
[PodSecurityContext]
1 seLinuxOptions SELinuxOptions keep
8 windowsOptions WindowsSecurityContextOptions keep
2 runAsUser int64 keep
6 runAsGroup int64 keep
3 runAsNonRoot bool keep
4 supplementalGroups int64 []
12 supplementalGroupsPolicy string keep
5 fsGroup int64 keep
7 sysctls Sysctl []
9 fsGroupChangePolicy string keep
10 seccompProfile SeccompProfile keep
11 appArmorProfile AppArmorProfile keep
13 seLinuxChangePolicy string keep
[Sysctl]
1 name string keep
2 value string keep
[Affinity]
1 nodeAffinity NodeAffinity keep
2 podAffinity PodAffinity keep
3 podAntiAffinity PodAntiAffinity keep
[NodeAffinity]
1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector keep
2 preferredDuringSchedulingIgnoredDuringExecution PreferredSchedulingTerm []
[NodeSelector]
1 nodeSelectorTerms NodeSelectorTerm [] keep
[NodeSelectorTerm]
1 matchExpressions NodeSelectorRequirement []
2 matchFields NodeSelectorRequirement []
[NodeSelectorRequirement]
1 key string keep
2 operator string keep
3 values string []
[PreferredSchedulingTerm]
1 weight int32 keep
2 preference NodeSelectorTerm keep
[PodAffinity]
1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm []
2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm []
[PodAffinityTerm]
1 labelSelector LabelSelector keep
2 namespaces string []
3 topologyKey string keep
4 namespaceSelector LabelSelector keep
5 matchLabelKeys string []
6 mismatchLabelKeys string []
[WeightedPodAffinityTerm]
1 weight int32 keep
2 podAffinityTerm PodAffinityTerm keep
[PodAntiAffinity]
1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm []
2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm []
[Toleration]
1 key string
2 operator string
3 value string
4 effect string
5 tolerationSeconds int64 keep
[HostAlias]
1 ip string keep
2 hostnames string []
[PodDNSConfig]
1 nameservers string []
2 searches string []
3 options PodDNSConfigOption []
[PodDNSConfigOption]
1 name string
2 value string keep
[PodReadinessGate]
1 conditionType string keep
[TopologySpreadConstraint]
1 maxSkew int32 keep
2 topologyKey string keep
3 whenUnsatisfiable string keep
4 labelSelector LabelSelector keep
5 minDomains int32 keep
6 nodeAffinityPolicy string keep
7 nodeTaintsPolicy string keep
8 matchLabelKeys string []
[PodOS]
1 name string keep
[PodSchedulingGate]
1 name string keep
[PodResourceClaim]
1 name string keep
3 resourceClaimName string keep
4 resourceClaimTemplateName string keep
[WorkloadReference]
1 name string keep
2 podGroup string keep
3 podGroupReplicaKey string
[PodStatus]
17 observedGeneration int64
1 phase string
2 conditions PodCondition []
3 message string
4 reason string
11 nominatedNodeName string
5 hostIP string
16 hostIPs HostIP []
6 podIP string
12 podIPs PodIP []
7 startTime Time keep
10 initContainerStatuses ContainerStatus []
8 containerStatuses ContainerStatus []
9 qosClass string
13 ephemeralContainerStatuses ContainerStatus []
14 resize string
15 resourceClaimStatuses PodResourceClaimStatus []
18 extendedResourceClaimStatus PodExtendedResourceClaimStatus keep
19 allocatedResources map:string:Quantity
20 resources ResourceRequirements keep
[PodCondition]
1 type string keep
7 observedGeneration int64
2 status string keep
3 lastProbeTime Time
4 lastTransitionTime Time
5 reason string
6 message string
[HostIP]
1 ip string keep
[PodIP]
1 ip string keep
[ContainerStatus]
1 name string keep
2 state ContainerState
3 lastState ContainerState
4 ready bool keep
5 restartCount int32 keep
6 image string keep
7 imageID string keep
8 containerID string
9 started bool keep
10 allocatedResources map:string:Quantity
11 resources ResourceRequirements keep
12 volumeMounts VolumeMountStatus []
13 user ContainerUser keep
14 allocatedResourcesStatus ResourceStatus []
15 stopSignal string keep
[ContainerState]
1 waiting ContainerStateWaiting keep
2 running ContainerStateRunning keep
3 terminated ContainerStateTerminated keep
[ContainerStateWaiting]
1 reason string
2 message string
[ContainerStateRunning]
1 startedAt Time
[ContainerStateTerminated]
1 exitCode int32 keep
2 signal int32
3 reason string
4 message string
5 startedAt Time
6 finishedAt Time
7 containerID string
[VolumeMountStatus]
1 name string keep
2 mountPath string keep
3 readOnly bool
4 recursiveReadOnly string keep
[ContainerUser]
1 linux LinuxContainerUser keep
[LinuxContainerUser]
1 uid int64 keep
2 gid int64 keep
3 supplementalGroups int64 []
[ResourceStatus]
1 name string keep
2 resources ResourceHealth []
[ResourceHealth]
1 resourceID string keep
2 health string
[PodResourceClaimStatus]
1 name string keep
2 resourceClaimName string keep
[PodExtendedResourceClaimStatus]
1 requestMappings ContainerExtendedResourceRequest [] keep
2 resourceClaimName string keep
[ContainerExtendedResourceRequest]
1 containerName string keep
2 resourceName string keep
3 requestName string keep
[Event]
1 metadata ObjectMeta keep
2 involvedObject ObjectReference keep
3 reason string
4 message string
5 source EventSource
6 firstTimestamp Time
7 lastTimestamp Time
8 count int32
9 type string
10 eventTime MicroTime
11 series EventSeries keep
12 action string
13 related ObjectReference keep
14 reportingComponent string keep
15 reportingInstance string keep
[EventSource]
1 component string
2 host string
[EventSeries]
1 count int32
2 lastObservedTime MicroTime
[Endpoints]
1 metadata ObjectMeta
2 subsets EndpointSubset []
[EndpointSubset]
1 addresses EndpointAddress []
2 notReadyAddresses EndpointAddress []
3 ports EndpointPort []
[EndpointAddress]
1 ip string keep
3 hostname string
4 nodeName string keep
2 targetRef ObjectReference keep
[EndpointPort]
1 name string
2 port int32 keep
3 protocol string
4 appProtocol string keep
[Node]
1 metadata ObjectMeta
2 spec NodeSpec
3 status NodeStatus
[NodeSpec]
1 podCIDR string
7 podCIDRs string []
3 providerID string
4 unschedulable bool
5 taints Taint []
6 configSource NodeConfigSource keep
2 externalID string
[Taint]
1 key string keep
2 value string
3 effect string keep
4 timeAdded Time keep
[NodeConfigSource]
2 configMap ConfigMapNodeConfigSource keep
[ConfigMapNodeConfigSource]
1 namespace string keep
2 name string keep
3 uid string
4 resourceVersion string
5 kubeletConfigKey string keep
[NodeStatus]
1 capacity map:string:Quantity
2 allocatable map:string:Quantity
3 phase string
4 conditions NodeCondition []
5 addresses NodeAddress []
6 daemonEndpoints NodeDaemonEndpoints
7 nodeInfo NodeSystemInfo
8 images ContainerImage []
9 volumesInUse string []
10 volumesAttached AttachedVolume []
11 config NodeConfigStatus keep
12 runtimeHandlers NodeRuntimeHandler []
13 features NodeFeatures keep
14 declaredFeatures string []
[NodeCondition]
1 type string keep
2 status string keep
3 lastHeartbeatTime Time
4 lastTransitionTime Time
5 reason string
6 message string
[NodeAddress]
1 type string keep
2 address string keep
[NodeDaemonEndpoints]
1 kubeletEndpoint DaemonEndpoint
[DaemonEndpoint]
1 Port int32 keep
[NodeSystemInfo]
1 machineID string keep
2 systemUUID string keep
3 bootID string keep
4 kernelVersion string keep
5 osImage string keep
6 containerRuntimeVersion string keep
7 kubeletVersion string keep
8 kubeProxyVersion string keep
9 operatingSystem string keep
10 architecture string keep
11 swap NodeSwapStatus keep
[NodeSwapStatus]
1 capacity int64 keep
[ContainerImage]
1 names string [] keep
2 sizeBytes int64
[AttachedVolume]
1 name string keep
2 devicePath string keep
[NodeConfigStatus]
1 assigned NodeConfigSource keep
2 active NodeConfigSource keep
3 lastKnownGood NodeConfigSource keep
4 error string
[NodeRuntimeHandler]
1 name string keep
2 features NodeRuntimeHandlerFeatures keep
[NodeRuntimeHandlerFeatures]
1 recursiveReadOnlyMounts bool keep
2 userNamespaces bool keep
[NodeFeatures]
1 supplementalGroupsPolicy bool keep
[Deployment]
1 metadata ObjectMeta
2 spec DeploymentSpec
3 status DeploymentStatus
[DeploymentSpec]
1 replicas int32 keep
2 selector LabelSelector keep
3 template PodTemplateSpec keep
4 strategy DeploymentStrategy
5 minReadySeconds int32
6 revisionHistoryLimit int32 keep
7 paused bool
9 progressDeadlineSeconds int32 keep
[PodTemplateSpec]
1 metadata ObjectMeta
2 spec PodSpec
[DeploymentStrategy]
1 type string
2 rollingUpdate RollingUpdateDeployment keep
[RollingUpdateDeployment]
1 maxUnavailable IntOrString keep
2 maxSurge IntOrString keep
[DeploymentStatus]
1 observedGeneration int64
2 replicas int32
3 updatedReplicas int32
7 readyReplicas int32
4 availableReplicas int32
5 unavailableReplicas int32
9 terminatingReplicas int32 keep
6 conditions DeploymentCondition []
8 collisionCount int32 keep
[DeploymentCondition]
1 type string keep
2 status string keep
6 lastUpdateTime Time
7 lastTransitionTime Time
4 reason string
5 message string
[ReplicaSet]
1 metadata ObjectMeta
2 spec ReplicaSetSpec
3 status ReplicaSetStatus
[ReplicaSetSpec]
1 replicas int32 keep
4 minReadySeconds int32
2 selector LabelSelector keep
3 template PodTemplateSpec
[ReplicaSetStatus]
1 replicas int32 keep
2 fullyLabeledReplicas int32
4 readyReplicas int32
5 availableReplicas int32
7 terminatingReplicas int32 keep
3 observedGeneration int64
6 conditions ReplicaSetCondition []
[ReplicaSetCondition]
1 type string keep
2 status string keep
3 lastTransitionTime Time
4 reason string
5 message string
[Job]
1 metadata ObjectMeta
2 spec JobSpec
3 status JobStatus
[JobSpec]
1 parallelism int32 keep
2 completions int32 keep
3 activeDeadlineSeconds int64 keep
11 podFailurePolicy PodFailurePolicy keep
16 successPolicy SuccessPolicy keep
7 backoffLimit int32 keep
12 backoffLimitPerIndex int32 keep
13 maxFailedIndexes int32 keep
4 selector LabelSelector keep
5 manualSelector bool keep
6 template PodTemplateSpec keep
8 ttlSecondsAfterFinished int32 keep
9 completionMode string keep
10 suspend bool keep
14 podReplacementPolicy string keep
15 managedBy string keep
[PodFailurePolicy]
1 rules PodFailurePolicyRule [] keep
[PodFailurePolicyRule]
1 action string keep
2 onExitCodes PodFailurePolicyOnExitCodesRequirement keep
3 onPodConditions PodFailurePolicyOnPodConditionsPattern []
[PodFailurePolicyOnExitCodesRequirement]
1 containerName string keep
2 operator string keep
3 values int32 [] keep
[PodFailurePolicyOnPodConditionsPattern]
1 type string keep
2 status string keep
[SuccessPolicy]
1 rules SuccessPolicyRule [] keep
[SuccessPolicyRule]
1 succeededIndexes string keep
2 succeededCount int32 keep
[JobStatus]
1 conditions JobCondition []
2 startTime Time keep
3 completionTime Time keep
4 active int32
5 succeeded int32
6 failed int32
11 terminating int32 keep
7 completedIndexes string
10 failedIndexes string keep
8 uncountedTerminatedPods UncountedTerminatedPods keep
9 ready int32 keep
[JobCondition]
1 type string keep
2 status string keep
3 lastProbeTime Time
4 lastTransitionTime Time
5 reason string
6 message string
[UncountedTerminatedPods]
1 succeeded string []
2 failed string []
[DeleteOptions]
1 gracePeriodSeconds int64 keep
2 preconditions Preconditions keep
3 orphanDependents bool keep
4 propagationPolicy string keep
5 dryRun string []
6 ignoreStoreReadErrorWithClusterBreakingPotential bool keep
[Preconditions]
1 uid string keep
2 resourceVersion string keep
"""
