"""A Chinese reader's task instructions say the warranty's reason in Chinese."""

from __future__ import annotations

import html

from tests.web.conftest import manual_assignment_instructions, open_tasks


def test_the_solution_task_says_why_there_is_no_warranty_in_chinese(desk, signed_in, services):
    # Given a repair without proof of purchase, inspected on site and waiting for the agent's solution
    case = desk.open_case().register(product={"proof_of_purchase": ""}).diagnose()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "propose_solution"]
    # When a Chinese agent opens it
    agent = signed_in("agent")
    agent.get("/lang/zh?next=/tasks")
    page = html.unescape(agent.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    # Then the instructions give the reason in Chinese, not the handler's English
    instructions = page[page.index('class="instructions'):page.index('class="taskform')]
    assert "无购买凭证：无法享受厂家保修" in instructions
    assert "no proof of purchase" not in instructions


def test_the_manual_assignment_names_the_skill_in_chinese(desk, signed_in, services):
    # Given every east washer technician on leave, so the visit waits for a supervisor,
    # when a Chinese supervisor opens the task
    instructions = manual_assignment_instructions(services, desk, signed_in, "zh")
    # Then the missing skill is named in Chinese
    assert "洗衣机" in instructions.split("技能")[0]
