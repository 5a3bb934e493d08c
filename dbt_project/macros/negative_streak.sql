{#-
  Consecutive calendar days with a negative value, per key, for incremental models.
  negative_streak_ctes() adds two CTEs (negative_days, streaks) over `source` (columns: date,
  the keys, the value) and, in a windowed incremental run, `carried`: the streak stored in this
  model for the day before the first input day, so a streak longer than the input window goes on
  counting. negative_streak_joins() joins them to the rows (aliases s and carry_) and
  negative_streak_days() is the column.
-#}
{% macro negative_streak_ctes(source, keys, value_column, carry) -%}
negative_days as (
    select
        date,
        {{ keys | join(', ') }},
        {{ dbt.datediff("cast('1970-01-01' as date)", 'date', 'day') }}
            - row_number() over (partition by {{ keys | join(', ') }} order by date) as island
    from {{ source }}
    where {{ value_column }} < 0
),

streaks as (
    select
        date,
        {{ keys | join(', ') }},
        row_number() over (partition by {{ keys | join(', ') }}, island order by date) as streak_in_input,
        min(date) over (partition by {{ keys | join(', ') }}, island) as streak_first_day
    from negative_days
),
{% if carry %}
carried as (
    {#- A table built before this column existed has no streak to continue (the next full build adds it) -#}
    {#- (in a unit test `this` is the fixture's name, built from the contract, which has the column) -#}
    {%- if this is string or 'negative_funding_streak_days' in adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    select {{ keys | join(', ') }}, negative_funding_streak_days
    from {{ this }}
    where date = {{ dbt.dateadd('day', -1, levstress.input_start()) }}
    {%- else %}
    select {{ keys | join(', ') }}, 0 as negative_funding_streak_days
    from {{ this }}
    where 1 = 0
    {%- endif %}
),
{% endif %}
{%- endmacro %}

{% macro negative_streak_days(carry) -%}
    cast(
        coalesce(s.streak_in_input, 0)
        {% if carry %}
        + case
            when s.streak_first_day = {{ levstress.input_start() }}
                then coalesce(carry_.negative_funding_streak_days, 0)
            else 0
          end
        {% endif %}
        as integer
    )
{%- endmacro %}

{% macro negative_streak_joins(row_alias, keys, carry) -%}
    left join streaks as s
        on s.date = {{ row_alias }}.date
        {%- for key in keys %} and s.{{ key }} = {{ row_alias }}.{{ key }}{% endfor %}
    {% if carry %}
    left join carried as carry_
        on {% for key in keys %}{{ "and " if not loop.first }}carry_.{{ key }} = {{ row_alias }}.{{ key }} {% endfor %}
    {% endif %}
{%- endmacro %}
