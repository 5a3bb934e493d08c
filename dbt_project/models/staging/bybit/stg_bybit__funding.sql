{{ stg_funding_rates('bybit_funding') }}
