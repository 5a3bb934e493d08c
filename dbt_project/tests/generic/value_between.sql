{#- Column lies within [min_value, max_value] (or the open interval when inclusive=false).
    Either bound may be omitted; NULLs pass (test nullability with not_null). -#}
{% test value_between(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- set lo_op = '<' if inclusive else '<=' -%}
{%- set hi_op = '>' if inclusive else '>=' -%}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
      1 = 0
      {%- if min_value is not none %} or {{ column_name }} {{ lo_op }} {{ min_value }}{% endif %}
      {%- if max_value is not none %} or {{ column_name }} {{ hi_op }} {{ max_value }}{% endif %}
  )
{% endtest %}
