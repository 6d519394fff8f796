module sidecar-injector/test/webhook-client

go 1.26.0
