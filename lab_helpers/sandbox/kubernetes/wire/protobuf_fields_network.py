"""Protobuf field numbers of the network kinds that typed clients send (``kubectl create ingress``), in
the format of ``protobuf_fields.TABLE``; ``ROOT_KINDS`` are the kinds a body may carry.

Read from ``networking/v1/generated.proto`` and ``types.go`` of k8s.io/api at v0.35.7: Ingress,
IngressClass and NetworkPolicy with every message they reach (``keep``: pointer fields and fields
without ``omitempty``, whose zero value the JSON shows)."""

TABLE = """
[Ingress]
1 metadata ObjectMeta
2 spec IngressSpec
3 status IngressStatus
[IngressSpec]
4 ingressClassName string keep
1 defaultBackend IngressBackend
2 tls IngressTLS []
3 rules IngressRule []
[IngressBackend]
4 service IngressServiceBackend
3 resource TypedLocalObjectReference
[IngressServiceBackend]
1 name string keep
2 port ServiceBackendPort
[ServiceBackendPort]
1 name string
2 number int32
[IngressTLS]
1 hosts string []
2 secretName string
[IngressRule]
1 host string
2 ingressRuleValue IngressRuleValue inline
[IngressRuleValue]
1 http HTTPIngressRuleValue
[HTTPIngressRuleValue]
1 paths HTTPIngressPath []
[HTTPIngressPath]
1 path string
3 pathType string keep
2 backend IngressBackend
[IngressStatus]
1 loadBalancer IngressLoadBalancerStatus
[IngressLoadBalancerStatus]
1 ingress IngressLoadBalancerIngress []
[IngressLoadBalancerIngress]
1 ip string
2 hostname string
4 ports IngressPortStatus []
[IngressPortStatus]
1 port int32 keep
2 protocol string keep
3 error string keep
[IngressClass]
1 metadata ObjectMeta
2 spec IngressClassSpec
[IngressClassSpec]
1 controller string
2 parameters IngressClassParametersReference
[IngressClassParametersReference]
1 apiGroup string keep
2 kind string keep
3 name string keep
4 scope string keep
5 namespace string keep
[NetworkPolicy]
1 metadata ObjectMeta
2 spec NetworkPolicySpec
[NetworkPolicySpec]
1 podSelector LabelSelector
2 ingress NetworkPolicyIngressRule []
3 egress NetworkPolicyEgressRule []
4 policyTypes string []
[NetworkPolicyIngressRule]
1 ports NetworkPolicyPort []
2 from NetworkPolicyPeer []
[NetworkPolicyEgressRule]
1 ports NetworkPolicyPort []
2 to NetworkPolicyPeer []
[NetworkPolicyPeer]
1 podSelector LabelSelector
2 namespaceSelector LabelSelector
3 ipBlock IPBlock
[NetworkPolicyPort]
1 protocol string keep
2 port IntOrString keep
3 endPort int32 keep
[IPBlock]
1 cidr string keep
2 except string []
"""

ROOT_KINDS: tuple[str, ...] = ("Ingress", "IngressClass", "NetworkPolicy")
