{#- Small portable helpers. Engine-specific pieces go through adapter.dispatch so a Spark /
    Snowflake port only has to add `<adapter>__` versions. -#}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'levstress')()) }}
{%- endmacro %}
{% macro default__type_double() -%}double{%- endmacro %}
{% macro postgres__type_double() -%}double precision{%- endmacro %}

{#- a / b as a float, NULL when b is 0 or NULL -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as {{ levstress.type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- Mid-rank percentile (0-100) of `today` among the `earlier` values it is grouped with (ties count
    half), NULL when today is NULL or fewer than `min_history` earlier values exist -#}
{% macro mid_rank_percentile(today, earlier, min_history) -%}
    case
        when {{ today }} is not null and count({{ earlier }}) >= {{ min_history }}
        then 100 * cast(
            sum(case when {{ earlier }} < {{ today }} then 1 else 0 end)
            + 0.5 * sum(case when {{ earlier }} = {{ today }} then 1 else 0 end)
            as {{ levstress.type_double() }}
        ) / count({{ earlier }})
    end
{%- endmacro %}

{#- SQL list literal of a list var, e.g. ('BTC', 'ETH') -#}
{% macro sql_list(values) -%}
    ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- One-column relation of literal values: select 'BTC' as asset union all ... -#}
{% macro values_relation(values, column_name) -%}
    {% for v in values -%}
    select {{ "'" ~ v ~ "'" if v is string else v }} as {{ column_name }}{% if not loop.last %} union all {% endif %}
    {% endfor %}
{%- endmacro %}

{#- Rolling median / MAD over a frame. DuckDB evaluates holistic aggregates over window frames
    natively; engines without it need a self-join implementation. -#}
{% macro rolling_median(expr, window) -%}
    {{ return(adapter.dispatch('rolling_median', 'levstress')(expr, window)) }}
{%- endmacro %}
{% macro default__rolling_median(expr, window) -%}
    median({{ expr }}) over ({{ window }})
{%- endmacro %}

{% macro rolling_mad(expr, window) -%}
    {{ return(adapter.dispatch('rolling_mad', 'levstress')(expr, window)) }}
{%- endmacro %}
{#- median(|x - median(frame)|) over the same frame -#}
{% macro default__rolling_mad(expr, window) -%}
    mad({{ expr }}) over ({{ window }})
{%- endmacro %}

{#- Frame of the N hours before the current row (current row excluded). -#}
{% macro trailing_hours_frame(partition_by, order_by, hours) -%}
    {{ return(adapter.dispatch('trailing_hours_frame', 'levstress')(partition_by, order_by, hours)) }}
{%- endmacro %}
{% macro default__trailing_hours_frame(partition_by, order_by, hours) -%}
    partition by {{ partition_by }} order by {{ order_by }}
    range between interval '{{ hours }} hours' preceding and interval '1 hours' preceding
{%- endmacro %}

{#- Stress level band of a 0-100 score (NULL stays NULL). -#}
{% macro stress_level(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= {{ var('stress_level_extreme') }} then 'extreme'
        when {{ score }} >= {{ var('stress_level_high') }} then 'high'
        when {{ score }} >= {{ var('stress_level_elevated') }} then 'elevated'
        else 'calm'
    end
{%- endmacro %}

{#- A positive number rounded to `digits` significant digits (12345.6 -> 12346 with 5), halves up.
    The scaled value is first rounded to 6 decimals: engines' power() and log10() differ in the
    last bit, which would otherwise turn an exact half (0.126875) into ...74.99999999999999 on one
    engine and ...75.00000000000001 on another, and round it down on one of them. -#}
{% macro round_significant(expr, digits) -%}
    {%- set scale = 'power(10, floor(round(log10(' ~ expr ~ '), 9)) - ' ~ (digits - 1) ~ ')' -%}
    (round(round({{ expr }} / {{ scale }}, 6)) * {{ scale }})
{%- endmacro %}

{#- Spark has no mad(), and median() is not allowed over a RANGE frame: collect the frame into a
    sorted array (once per row, bound to a lambda variable so it is not re-evaluated) and take
    the middle, interpolating like DuckDB's quantile_cont: lo + (hi - lo) * 0.5. -#}
{% macro spark__array_median(a) -%}
    case
        when size({{ a }}) = 0 then null
        when size({{ a }}) % 2 = 1 then element_at({{ a }}, cast(size({{ a }}) div 2 + 1 as int))
        else element_at({{ a }}, cast(size({{ a }}) div 2 as int))
            + (element_at({{ a }}, cast(size({{ a }}) div 2 + 1 as int)) - element_at({{ a }}, cast(size({{ a }}) div 2 as int))) * 0.5
    end
{%- endmacro %}

{% macro spark__rolling_median(expr, window) -%}
    element_at(transform(array(array_sort(collect_list({{ expr }}) over ({{ window }}))),
        a -> {{ levstress.spark__array_median('a') }}), 1)
{%- endmacro %}

{#- median(|x - m|) over the frame, m = the frame's median -#}
{% macro spark__rolling_mad(expr, window) -%}
    element_at(transform(array(array_sort(collect_list({{ expr }}) over ({{ window }}))),
        a -> element_at(transform(array({{ levstress.spark__array_median('a') }}),
            m -> element_at(transform(array(array_sort(transform(a, v -> abs(v - m)))),
                d -> {{ levstress.spark__array_median('d') }}), 1)), 1)), 1)
{%- endmacro %}

{#- The value of expr at the latest order among the rows where expr is set (NULL when none is). -#}
{% macro last_value_by(expr, order) -%}
{{ return(adapter.dispatch('last_value_by', 'levstress')(expr, order)) }}
{%- endmacro %}
{% macro default__last_value_by(expr, order) -%}
arg_max({{ expr }}, case when {{ expr }} is not null then {{ order }} end)
{%- endmacro %}
{% macro spark__last_value_by(expr, order) -%}
max_by({{ expr }}, case when {{ expr }} is not null then {{ order }} end)
{%- endmacro %}
