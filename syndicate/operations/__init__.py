"""What ops and marketers use around the pipeline: attribution reports, previews, the operator's
resolve and replay, held accounts, engagement snapshots, lifecycle webhooks to producers, health
checks and the metrics gauges.
"""
