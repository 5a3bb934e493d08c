{#-
  Where each dataset of each exchange comes from, and what a whole day of it is worth
  (docs/methodology.md, "Coverage"). One entry per staging model:
    dataset : liquidations | funding | open_interest | prices
    time    : the column that places a point in time
    interval: minutes between two points of a regular series (SQL over the model's columns);
              none for an event tape, where the number of points says nothing about coverage
    sparse  : the source leaves out periods with nothing in them (events, Coinalyze buckets),
              so fewer points than periods is not a gap
    whole   : the level of a day with every expected point: complete (the venue's full record),
              throttled (a capped or sampled feed), estimate (an aggregator's figure)
  Add a staging model here to bring it into fct_source_coverage_daily.
-#}
{% macro coverage_sources() -%}
{{ return([
    {'model': 'stg_bybit__liquidations', 'dataset': 'liquidations', 'time': 'event_time',
     'interval': none, 'sparse': true, 'whole': 'complete'},
    {'model': 'stg_binance__liquidations', 'dataset': 'liquidations', 'time': 'event_time',
     'interval': none, 'sparse': true, 'whole': 'throttled'},
    {'model': 'stg_okx__liquidations', 'dataset': 'liquidations', 'time': 'event_time',
     'interval': none, 'sparse': true, 'whole': 'throttled'},
    {'model': 'stg_coinalyze__liquidations', 'dataset': 'liquidations', 'time': 'bucket_start',
     'interval': 'bucket_minutes', 'sparse': true, 'whole': 'estimate'},
    {'model': 'stg_gate__liquidations', 'dataset': 'liquidations', 'time': 'bucket_start',
     'interval': 'bucket_minutes', 'sparse': false, 'whole': 'estimate'},
    {'model': 'stg_binance__funding', 'dataset': 'funding', 'time': 'funding_time',
     'interval': 'interval_hours * 60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_bybit__funding', 'dataset': 'funding', 'time': 'funding_time',
     'interval': 'interval_hours * 60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_okx__funding', 'dataset': 'funding', 'time': 'funding_time',
     'interval': 'interval_hours * 60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_hyperliquid__funding', 'dataset': 'funding', 'time': 'funding_time',
     'interval': 'interval_hours * 60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_gate__funding', 'dataset': 'funding', 'time': 'funding_time',
     'interval': 'interval_hours * 60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_binance__open_interest', 'dataset': 'open_interest', 'time': 'observed_at',
     'interval': '60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_bybit__open_interest', 'dataset': 'open_interest', 'time': 'observed_at',
     'interval': '60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_okx__open_interest', 'dataset': 'open_interest', 'time': 'observed_at',
     'interval': '60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_coinalyze__open_interest', 'dataset': 'open_interest', 'time': 'observed_at',
     'interval': '60', 'sparse': false, 'whole': 'estimate'},
    {'model': 'stg_gate__open_interest', 'dataset': 'open_interest', 'time': 'observed_at',
     'interval': '60', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_binance__klines', 'dataset': 'prices', 'time': 'open_time',
     'interval': 'interval_minutes', 'sparse': false, 'whole': 'complete'},
    {'model': 'stg_gate__klines', 'dataset': 'prices', 'time': 'open_time',
     'interval': 'interval_minutes', 'sparse': false, 'whole': 'complete'},
]) }}
{%- endmacro %}
