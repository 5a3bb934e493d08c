{% macro stg_long_short_ratios(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('observed_at', 'observed_at', 'timestamp', none),
    ('account_ratio', 'account_ratio', 'double', none),
    ('top_account_ratio', 'top_account_ratio', 'double', none),
    ('top_position_ratio', 'top_position_ratio', 'double', none),
    ('taker_buy_sell_ratio', 'taker_buy_sell_ratio', 'double', none),
], ['exchange', 'symbol', 'observed_at']) }}
{%- endmacro %}
