"""Block schemas: HCL names → Nomad API JSON fields, in Go struct order.

Each struct is a small table ``JSONName  hcl_name  kind``. Kinds:

* ``*str *int *bool *dur *int8 *int64 *uint64`` – optional scalars, null when unset
* ``str int bool dur uint8`` – plain scalars, zero value when unset
* ``[str]`` – list of strings attribute
* ``{str}`` / ``{[str]}`` / ``{any}`` – free-form map block (``meta``, ``header``, ``config``)
* ``Name`` / ``[Name]`` / ``{Name}`` – one nested block, repeated blocks, blocks keyed by label
* ``label`` – the block's label; ``=null =false =0 =""`` / ``={}`` – fixed values of
  fields not set from HCL (server-side fields)
* ``?Name`` – like ``Name`` but omitted from JSON when unset (Go ``omitempty``)

Only the JSON shape lives here; special cases are in :mod:`decode`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    json: str
    hcl: str | None
    kind: str

    @property
    def is_block(self) -> bool:
        k = self.kind.lstrip("?")
        return k.startswith("{") or k.lstrip("[").rstrip("]")[:1].isupper()

    @property
    def struct(self) -> str:
        """Nested struct name for block kinds, else ''."""
        k = self.kind.lstrip("?").strip("[]{}")
        return k if k[:1].isupper() else ""


SPECS = {
    "Job": """
        Region region *str
        Namespace namespace *str
        ID id *str
        Name name *str
        Type type *str
        Priority priority *int
        AllAtOnce all_at_once *bool
        Datacenters datacenters [str]
        NodePool node_pool *str
        Constraints constraint [Constraint]
        Affinities affinity [Affinity]
        TaskGroups group [TaskGroup]
        Update update UpdateStrategy
        Multiregion multiregion Multiregion
        Spreads spread [Spread]
        Periodic periodic PeriodicConfig
        ParameterizedJob parameterized ParameterizedJobConfig
        Reschedule reschedule ReschedulePolicy
        Migrate migrate MigrateStrategy
        Meta meta {str}
        ConsulToken consul_token *str
        VaultToken vault_token *str
        Stop - =null
        ParentID - =null
        Dispatched - =false
        DispatchIdempotencyToken - =null
        Payload - =null
        ConsulNamespace - =null
        VaultNamespace - =null
        NomadTokenID - =null
        Status - =null
        StatusDescription - =null
        Stable - =null
        Version - =null
        SubmitTime - =null
        CreateIndex - =null
        ModifyIndex - =null
        JobModifyIndex - =null
    """,
    "Constraint": """
        LTarget attribute str
        RTarget value str
        Operand operator str
    """,
    "Affinity": """
        LTarget attribute str
        RTarget value str
        Operand operator str
        Weight weight *int8
    """,
    "Spread": """
        Attribute attribute str
        Weight weight *int8
        SpreadTarget target [SpreadTarget]
    """,
    "SpreadTarget": """
        Value - label
        Percent percent uint8
    """,
    "UpdateStrategy": """
        Stagger stagger *dur
        MaxParallel max_parallel *int
        HealthCheck health_check *str
        MinHealthyTime min_healthy_time *dur
        HealthyDeadline healthy_deadline *dur
        ProgressDeadline progress_deadline *dur
        Canary canary *int
        AutoRevert auto_revert *bool
        AutoPromote auto_promote *bool
    """,
    "Multiregion": """
        Strategy strategy MultiregionStrategy
        Regions region [MultiregionRegion]
    """,
    "MultiregionStrategy": """
        MaxParallel max_parallel *int
        OnFailure on_failure *str
    """,
    "MultiregionRegion": """
        Name - label
        Count count *int
        Datacenters datacenters [str]
        NodePool node_pool str
        Meta meta {str}
    """,
    "PeriodicConfig": """
        Enabled enabled *bool
        Spec cron *str
        Specs crons [str]
        SpecType - =null
        ProhibitOverlap prohibit_overlap *bool
        TimeZone time_zone *str
    """,
    "ParameterizedJobConfig": """
        Payload payload str
        MetaRequired meta_required [str]
        MetaOptional meta_optional [str]
    """,
    "ReschedulePolicy": """
        Attempts attempts *int
        Interval interval *dur
        Delay delay *dur
        DelayFunction delay_function *str
        MaxDelay max_delay *dur
        Unlimited unlimited *bool
    """,
    "MigrateStrategy": """
        MaxParallel max_parallel *int
        HealthCheck health_check *str
        MinHealthyTime min_healthy_time *dur
        HealthyDeadline healthy_deadline *dur
    """,
    "TaskGroup": """
        Name - label
        Count count *int
        Constraints constraint [Constraint]
        Affinities affinity [Affinity]
        Tasks task [Task]
        Spreads spread [Spread]
        Volumes volume {VolumeRequest}
        RestartPolicy restart RestartPolicy
        ReschedulePolicy reschedule ReschedulePolicy
        EphemeralDisk ephemeral_disk EphemeralDisk
        Update update UpdateStrategy
        Migrate migrate MigrateStrategy
        Networks network [NetworkResource]
        Meta meta {str}
        Services service [Service]
        ShutdownDelay shutdown_delay *dur
        StopAfterClientDisconnect stop_after_client_disconnect *dur
        MaxClientDisconnect max_client_disconnect *dur
        Scaling scaling ScalingPolicy
        Consul consul Consul
    """,
    "VolumeRequest": """
        Name - label
        Type type str
        Source source str
        ReadOnly read_only bool
        AccessMode access_mode str
        AttachmentMode attachment_mode str
        MountOptions mount_options CSIMountOptions
        PerAlloc per_alloc bool
    """,
    "CSIMountOptions": """
        FSType fs_type str
        MountFlags mount_flags [str]
    """,
    "RestartPolicy": """
        Interval interval *dur
        Attempts attempts *int
        Delay delay *dur
        Mode mode *str
        RenderTemplates render_templates *bool
    """,
    "EphemeralDisk": """
        Sticky sticky *bool
        Migrate migrate *bool
        SizeMB size *int
    """,
    "NetworkResource": """
        Mode mode str
        Device device str
        CIDR cidr str
        IP ip str
        DNS dns DNSConfig
        ReservedPorts reserved_ports [Port]
        DynamicPorts port [Port]
        Hostname hostname str
        MBits mbits *int
    """,
    "DNSConfig": """
        Servers servers [str]
        Searches searches [str]
        Options options [str]
    """,
    "Port": """
        Label - label
        Value static int
        To to int
        HostNetwork host_network str
    """,
    "Consul": """
        Namespace namespace str
    """,
    "ScalingPolicy": """
        Min min *int64
        Max max *int64
        Policy policy {any}
        Enabled enabled *bool
        Type type str
        ID - =""
        Namespace - =""
        Target - =null
        CreateIndex - =0
        ModifyIndex - =0
    """,
    "Task": """
        Name - label
        Driver driver str
        User user str
        Lifecycle lifecycle TaskLifecycle
        Config config {any}
        Constraints constraint [Constraint]
        Affinities affinity [Affinity]
        Env env {str}
        Services service [Service]
        Resources resources Resources
        RestartPolicy restart RestartPolicy
        Meta meta {str}
        KillTimeout kill_timeout *dur
        LogConfig logs LogConfig
        Artifacts artifact [TaskArtifact]
        Vault vault Vault
        Templates template [Template]
        DispatchPayload dispatch_payload DispatchPayloadConfig
        VolumeMounts volume_mount [VolumeMount]
        CSIPluginConfig csi_plugin ?TaskCSIPluginConfig
        Leader leader bool
        ShutdownDelay shutdown_delay dur
        KillSignal kill_signal str
        Kind kind str
        ScalingPolicies scaling [ScalingPolicy]
        Identity identity WorkloadIdentity
    """,
    "TaskLifecycle": """
        Hook hook str
        Sidecar sidecar bool
    """,
    "Resources": """
        CPU cpu *int
        Cores cores *int
        MemoryMB memory *int
        MemoryMaxMB memory_max *int
        DiskMB disk *int
        Networks network [NetworkResource]
        Devices device [RequestedDevice]
        IOPS iops *int
    """,
    "RequestedDevice": """
        Name - label
        Count count *uint64
        Constraints constraint [Constraint]
        Affinities affinity [Affinity]
    """,
    "LogConfig": """
        MaxFiles max_files *int
        MaxFileSizeMB max_file_size *int
        Enabled enabled *bool
        Disabled disabled *bool
    """,
    "TaskArtifact": """
        GetterSource source *str
        GetterOptions options {str}
        GetterHeaders headers {str}
        GetterMode mode *str
        RelativeDest destination *str
    """,
    "Vault": """
        Policies policies [str]
        Namespace namespace *str
        Env env *bool
        DisableFile disable_file *bool
        ChangeMode change_mode *str
        ChangeSignal change_signal *str
    """,
    "Template": """
        SourcePath source *str
        DestPath destination *str
        EmbeddedTmpl data *str
        ChangeMode change_mode *str
        ChangeScript change_script ChangeScript
        ChangeSignal change_signal *str
        Splay splay *dur
        Perms perms *str
        Uid uid *int
        Gid gid *int
        LeftDelim left_delimiter *str
        RightDelim right_delimiter *str
        Envvars env *bool
        VaultGrace vault_grace *dur
        Wait wait WaitConfig
        ErrMissingKey error_on_missing_key *bool
    """,
    "ChangeScript": """
        Command command *str
        Args args [str]
        Timeout timeout *dur
        FailOnError fail_on_error *bool
    """,
    "WaitConfig": """
        Min min *dur
        Max max *dur
    """,
    "DispatchPayloadConfig": """
        File file str
    """,
    "VolumeMount": """
        Volume volume *str
        Destination destination *str
        ReadOnly read_only *bool
        PropagationMode propagation_mode *str
    """,
    "TaskCSIPluginConfig": """
        ID id str
        Type type str
        MountDir mount_dir str
        StagePublishBaseDir stage_publish_base_dir str
        HealthTimeout health_timeout dur
    """,
    "WorkloadIdentity": """
        Env env bool
        File file bool
    """,
    "Service": """
        Name name str
        Tags tags [str]
        CanaryTags canary_tags [str]
        EnableTagOverride enable_tag_override bool
        PortLabel port str
        AddressMode address_mode str
        Address address str
        Checks check [ServiceCheck]
        CheckRestart check_restart CheckRestart
        Connect connect ConsulConnect
        Meta meta {str}
        CanaryMeta canary_meta {str}
        TaggedAddresses tagged_addresses {str}
        TaskName task str
        OnUpdate on_update str
        Provider provider str
    """,
    "ServiceCheck": """
        Name name str
        Type type str
        Command command str
        Args args [str]
        Path path str
        Protocol protocol str
        PortLabel port str
        Expose expose bool
        AddressMode address_mode str
        Advertise advertise str
        Interval interval dur
        Timeout timeout dur
        InitialStatus initial_status str
        TLSServerName tls_server_name str
        TLSSkipVerify tls_skip_verify bool
        Header header {[str]}
        Method method str
        CheckRestart check_restart CheckRestart
        GRPCService grpc_service str
        GRPCUseTLS grpc_use_tls bool
        TaskName task str
        SuccessBeforePassing success_before_passing int
        FailuresBeforeCritical failures_before_critical int
        Body body str
        OnUpdate on_update str
    """,
    "CheckRestart": """
        Limit limit int
        Grace grace *dur
        IgnoreWarnings ignore_warnings bool
    """,
    "ConsulConnect": """
        Native native bool
        Gateway gateway ConsulGateway
        SidecarService sidecar_service ConsulSidecarService
        SidecarTask sidecar_task SidecarTask
    """,
    "ConsulSidecarService": """
        Tags tags [str]
        Port port str
        Proxy proxy ConsulProxy
        DisableDefaultTCPCheck disable_default_tcp_check bool
        Meta meta {str}
    """,
    "SidecarTask": """
        Name name str
        Driver driver str
        User user str
        Config config {any}
        Env env {str}
        Resources resources Resources
        Meta meta {str}
        KillTimeout kill_timeout *dur
        LogConfig logs LogConfig
        ShutdownDelay shutdown_delay *dur
        KillSignal kill_signal str
    """,
    "ConsulProxy": """
        LocalServiceAddress local_service_address str
        LocalServicePort local_service_port int
        Expose expose ConsulExposeConfig
        ExposeConfig - =null
        Upstreams upstreams [ConsulUpstream]
        Config config {any}
    """,
    "ConsulExposeConfig": """
        Paths path [ConsulExposePath]
        Path - =null
    """,
    "ConsulExposePath": """
        Path path str
        Protocol protocol str
        LocalPathPort local_path_port int
        ListenerPort listener_port str
    """,
    "ConsulUpstream": """
        DestinationName destination_name str
        DestinationNamespace destination_namespace str
        DestinationPeer destination_peer str
        DestinationType destination_type str
        LocalBindPort local_bind_port int
        Datacenter datacenter str
        LocalBindAddress local_bind_address str
        LocalBindSocketPath local_bind_socket_path str
        LocalBindSocketMode local_bind_socket_mode str
        MeshGateway mesh_gateway ConsulMeshGateway
        Config config {any}
    """,
    "ConsulMeshGateway": """
        Mode mode str
    """,
    "ConsulGateway": """
        Proxy proxy ConsulGatewayProxy
        Ingress ingress ConsulIngressConfigEntry
        Terminating terminating ConsulTerminatingConfigEntry
        Mesh mesh ConsulMeshConfigEntry
    """,
    "ConsulGatewayProxy": """
        ConnectTimeout connect_timeout *dur
        EnvoyGatewayBindTaggedAddresses envoy_gateway_bind_tagged_addresses bool
        EnvoyGatewayBindAddresses envoy_gateway_bind_addresses {ConsulGatewayBindAddress}
        EnvoyGatewayNoDefaultBind envoy_gateway_no_default_bind bool
        EnvoyDNSDiscoveryType envoy_dns_discovery_type str
        Config config {any}
    """,
    "ConsulGatewayBindAddress": """
        Name - label
        Address address str
        Port port int
    """,
    "ConsulIngressConfigEntry": """
        TLS tls ConsulGatewayTLSConfig
        Listeners listener [ConsulIngressListener]
    """,
    "ConsulGatewayTLSConfig": """
        Enabled enabled bool
        TLSMinVersion tls_min_version str
        TLSMaxVersion tls_max_version str
        CipherSuites cipher_suites [str]
    """,
    "ConsulIngressListener": """
        Port port int
        Protocol protocol str
        Services service [ConsulIngressService]
    """,
    "ConsulIngressService": """
        Name name str
        Hosts hosts [str]
    """,
    "ConsulTerminatingConfigEntry": """
        Services service [ConsulLinkedService]
    """,
    "ConsulLinkedService": """
        Name name str
        CAFile ca_file str
        CertFile cert_file str
        KeyFile key_file str
        SNI sni str
    """,
    "ConsulMeshConfigEntry": "",
}


def _parse(spec: str) -> list[Field]:
    fields = []
    for line in spec.strip().splitlines():
        json_name, hcl, kind = line.split()
        fields.append(Field(json_name, None if hcl == "-" else hcl, kind))
    return fields


STRUCTS: dict[str, list[Field]] = {name: _parse(spec) for name, spec in SPECS.items()}


def fields(struct: str) -> list[Field]:
    return STRUCTS[struct]
