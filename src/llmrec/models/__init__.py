"""Every model of the book behind one interface; each chapter adds its models to :data:`MODELS`."""

from ._base import MODELS, Recommender, make_model, register_model
from ._bayes_transfer import BayesTransfer
from ._bpr import BPR
from ._cmf import CMF, LeastSquaresMF
from ._demographic import DemographicPopular
from ._emcdr import EMCDR
from ._gpt import GPTRecommender
from ._gru4rec import GRU4Rec
from ._itemknn import ItemKNN
from ._lightgcn import LightGCN
from ._long_short import LongShortInterest, long_short_gate
from ._ngram_recommender import NGramRecommender
from ._popularity import MostPopular
from ._profile_tower import ProfileTower
from ._sasrec import SASRec, TextSASRec
from ._sequential import (
    SequentialRecommender,
    TextAdapter,
    length_buckets,
    multitask_loss,
    older_windows,
    padding_share,
    standardised_log_counts,
    text_pca_table,
)
from ._text_content import TextContent
from ._text_finetuned import FineTunedText
from ._two_tower import TwoTower
from ._userknn import UserKNN

__all__ = [
    "CMF",
    "DemographicPopular",
    "EMCDR",
    "LeastSquaresMF",
    "LightGCN",
    "BayesTransfer",
    "BPR",
    "FineTunedText",
    "TextContent",
    "TwoTower",
    "UserKNN",
    "MODELS",
    "length_buckets",
    "older_windows",
    "padding_share",
    "GPTRecommender",
    "ItemKNN",
    "MostPopular",
    "ProfileTower",
    "NGramRecommender",
    "Recommender",
    "make_model",
    "register_model",
    "GRU4Rec",
    "LongShortInterest",
    "SASRec",
    "SequentialRecommender",
    "TextAdapter",
    "TextSASRec",
    "long_short_gate",
    "multitask_loss",
    "standardised_log_counts",
    "text_pca_table",
]
