from loyalty_kpi.cli import app

app()
