{{ stg_collector_uptime('binance_collector_uptime') }}
