# Bare Locust: FastHttpUser, no wait, no hook. The yardstick for the harness's own recording cost.
from locust import FastHttpUser, constant, task


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
