"""Errors of a computation's definition; each ``code`` is part of the public API::

InvalidRequest (422)
└── ComputationInvalid          computation_invalid
    ├── FunctionUnknown         function_unknown   (not in the catalogue)
    ├── ParametersInvalid       parameters_invalid (against the function's schema)
    ├── ColumnUnknown           column_unknown     (not in the products' schema)
    ├── FilterInvalid           filter_invalid     (operator or constant vs column)
    ├── RangeRequired           range_required     (a function needs declared min/max)
    ├── OutsideAccuracyEnvelope outside_accuracy_envelope (rows, ranges and columns
    │                                                    beyond what the function answers
    │                                                    within its stated bound)
    ├── ProductsIncompatible    products_incompatible (a union needs equal columns)
    └── DesignIllConditioned    design_ill_conditioned (a regression's features are
                                                      collinear over the rows: found in
                                                      the MPC, one bit opened)
"""

from __future__ import annotations

from kraken_market.errors import InvalidRequest


class ComputationInvalid(InvalidRequest):
    code = "computation_invalid"


class FunctionUnknown(ComputationInvalid):
    code = "function_unknown"


class ParametersInvalid(ComputationInvalid):
    code = "parameters_invalid"


class ColumnUnknown(ComputationInvalid):
    code = "column_unknown"


class FilterInvalid(ComputationInvalid):
    code = "filter_invalid"


class RangeRequired(ComputationInvalid):
    code = "range_required"


class OutsideAccuracyEnvelope(ComputationInvalid):
    code = "outside_accuracy_envelope"


class ProductsIncompatible(ComputationInvalid):
    code = "products_incompatible"


class DesignIllConditioned(ComputationInvalid):
    code = "design_ill_conditioned"
