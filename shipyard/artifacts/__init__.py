"""Artifacts: the typed directories components read and write, and their codecs.

May import `shipyard.io`, `shipyard.errors` and `shipyard.plugins` only.
"""

from shipyard.artifacts.anomalies import Anomalies, Anomaly, AnomalyReport
from shipyard.artifacts.artifact import Artifact, artifact_type
from shipyard.artifacts.evaluation import (
    BlessingCheck,
    BlessingDecision,
    EvaluationResult,
    ModelBlessing,
    ModelEvaluation,
)
from shipyard.artifacts.infra_blessing import InfraBlessing, InfraValidation
from shipyard.artifacts.model import Model
from shipyard.artifacts.model_run import ModelRun
from shipyard.artifacts.monitoring_report import MonitoringReport
from shipyard.artifacts.pushed_model import PushDecision, PushedModel
from shipyard.artifacts.schema import (
    Comparator,
    DataSchema,
    FeatureSchema,
    NumericRange,
    Schema,
    ValueCountRange,
)
from shipyard.artifacts.standard import Examples, Metrics
from shipyard.artifacts.statistics import (
    DatasetStatistics,
    FeatureStatistics,
    Histogram,
    ListStatistics,
    NumericStatistics,
    Statistics,
    StringStatistics,
    ValueCount,
)
from shipyard.artifacts.transform_graph import TransformGraph

__all__ = [
    "Anomalies",
    "Anomaly",
    "AnomalyReport",
    "Artifact",
    "BlessingCheck",
    "BlessingDecision",
    "Comparator",
    "DataSchema",
    "DatasetStatistics",
    "EvaluationResult",
    "Examples",
    "FeatureSchema",
    "FeatureStatistics",
    "Histogram",
    "InfraBlessing",
    "InfraValidation",
    "ListStatistics",
    "Metrics",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "MonitoringReport",
    "NumericRange",
    "NumericStatistics",
    "PushDecision",
    "PushedModel",
    "Schema",
    "Statistics",
    "StringStatistics",
    "TransformGraph",
    "ValueCount",
    "ValueCountRange",
    "artifact_type",
]
