"""The data model: msgspec Structs with Nomad's JSON field names, defaults and validation.

Imports only `helper`.
"""

from .alloc import *  # noqa: F401,F403
from .deployment import *  # noqa: F401,F403
from .base import (HOUR, MINUTE, SECOND, Base, enc_hook, generate_uuid, now_ns,  # noqa: F401
                   to_builtins)
from .defaults import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .job import *  # noqa: F401,F403
from .node import *  # noqa: F401,F403
from .resources import *  # noqa: F401,F403
from .summary import *  # noqa: F401,F403
from .validate import ValidationError, format_errors, validate_job  # noqa: F401
from .funcs import Comparable, NodeUsage, allocs_fit, fits, node_capacity, score_fit  # noqa: F401
from .submission import JobSubmission  # noqa: F401
from .packed import Packed, PackedMetric, PackedTaskStates, pack_alloc  # noqa: F401
from .acl import (ACLPolicy, ACLToken, Namespace, NamespaceCapabilities,  # noqa: F401
                  DEFAULT_NAMESPACE, TOKEN_TYPE_CLIENT, TOKEN_TYPE_MANAGEMENT)
from .operator import PreemptionConfig, SchedulerConfiguration, config_from_agent  # noqa: F401
from .services import ServiceRegistration  # noqa: F401
from .variables import Variable  # noqa: F401
