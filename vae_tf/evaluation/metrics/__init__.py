"""Evaluation metrics, one per module, each a pure function on arrays
(plus, for the likelihood bounds, the models that produce them)."""

from vae_tf.evaluation.metrics.active_units import active_units
from vae_tf.evaluation.metrics.dci import dci
from vae_tf.evaluation.metrics.elbo import negative_elbo
from vae_tf.evaluation.metrics.iwae import iwae_nll
from vae_tf.evaluation.metrics.mig import mutual_information_gap
from vae_tf.evaluation.metrics.sap import \
    separated_attribute_predictability

__all__ = ["active_units", "dci", "iwae_nll", "mutual_information_gap",
           "negative_elbo", "separated_attribute_predictability"]
