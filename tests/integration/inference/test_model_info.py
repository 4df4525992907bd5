"""What model info tells a "try it" widget and the inference clients about a model."""
from huggingface_hub import HfApi

from conftest import TINY, unique


def test_model_info_has_inference_fields(server):
    repo = server.publish(f"admin/{unique('mlm')}", TINY / "bert-tiny-mlm", "fill-mask")
    info = HfApi(endpoint=server.url, token=server.admin_token).model_info(repo)
    assert info.pipeline_tag == "fill-mask"
    assert info.inference == "warm"
    assert info.mask_token == "[MASK]"


def test_unserved_task_is_not_warm_and_widget_data_comes_from_the_card(server):
    from huggingface_hub import CommitOperationAdd
    api = HfApi(endpoint=server.url, token=server.admin_token)
    repo = f"admin/{unique('asr')}"
    api.create_repo(repo)
    card = ("---\npipeline_tag: automatic-speech-recognition\nwidget:\n- text: hello there\n  example_title: Hi\n---\n")
    api.create_commit(repo, operations=[CommitOperationAdd("README.md", card.encode())], commit_message="card")
    info = api.model_info(repo)
    assert info.pipeline_tag == "automatic-speech-recognition"
    assert info.inference is None
    assert info.widget_data == [{"text": "hello there", "example_title": "Hi"}]
