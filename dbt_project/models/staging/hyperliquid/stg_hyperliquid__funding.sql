{{ stg_funding_rates('hyperliquid_funding') }}
