"""Every word of the app, English and Simplified Chinese (``demos.i18n`` serves them). Keys are named by meaning,
prefixed by where they appear; ``{name}`` fields are filled by ``t``/``say``. Every key is in both tables
(tests/test_i18n.py). No braces inside the texts other than fields: the page's formatter would read them."""

from __future__ import annotations

from demos.i18n_train import TRAIN_EN, TRAIN_ZH

EN: dict[str, str] = {
    # the app
    "app_intro": "# dlfs-zoo\nThe models of *Deep Learning from Scratch* (Weidman, 2019), chapter 7, trained, verified "
    "and ranked. Every model here is loaded from its zoo checkpoint.",
    "app_languages": "中文 / English: the page follows your browser's language; switch it in *Settings* (the page's "
    "footer).",
    "link_button": "Link to this",
    "link_box": "A link that opens this tab in this state",
    "link_unknown_tab": "The link names a tab this app does not have ({value}); the Digits tab is open instead. Tabs: "
    "{allowed}.",
    "link_unknown_model": "The link names a model the {task} tab does not have ({value}); the best-ranked one is "
    "picked instead.",
    "link_bad_code": "The link's code was not {dim} numbers between -3 and 3, separated by commas; the sliders start "
    "at zero instead.",
    "link_long_prompt": "The link's prompt has {length:,} characters; a link carries at most {most:,}, so the default "
    "prompt is used instead.",
    "link_unknown_task": "The link names a task the leaderboard does not have ({value}); digits is shown instead. "
    "Tasks: {allowed}.",
    # tab titles
    "tab_digits": "Digits",
    "tab_text": "Text",
    "tab_latent": "Latent",
    "tab_leaderboard": "Leaderboard",
    "tab_figures": "Chapter figures",
    "tab_houses": "Houses",
    "tab_submit": "Submit",
    # shared
    "unknown_model": "unknown {task} model{said}; choose one of: {names}",
    "no_sample": "no MNIST sample is shipped with this app",
    "model_ranked": "Model (ranked best first)",
    # digits
    "digits_pad": "Draw a digit",
    "digits_upload": "…or upload a picture of a digit",
    "digits_default": "The default, `{top}`, reads drawn and photographed digits best: {drawn:.1f} % of the "
    "benchmark's sketches and phone photos (the Leaderboard tab has every model's score).",
    "digits_prediction": "Prediction",
    "digits_second": "Second model",
    "digits_compared": "Compared: {model}",
    "digits_seen": "**What the model saw** (28x28, as MNIST was made)",
    "digits_seen_alt": "the 28x28 digit the model read",
    "digits_hint": "Draw a digit (0-9) on the canvas; it is read as you draw.",
    "digits_read_as": "Read as **{digit}** by `{model}`.",
    "digits_compare": "Compare with",
    "digits_flag_title": "The model got it wrong?",
    "digits_flag_text": "Only if you choose to: a small copy of your drawing (at most 256 px), the 28x28 the model saw "
    "and the digit you give are saved to the project's dataset of people's drawings, to measure the models on them. "
    "Nothing about you is stored (no IP address, no browser data).",
    "digits_right_digit": "The right digit",
    "digits_flag_save": "Save my drawing with this digit",
    "digits_flag_saved": "Saved, thank you: a {right} that `{model}` read as {predicted}.",
    "digits_flag_pick": "choose the right digit (0-9) before saving the drawing",
    "digits_flag_nothing": "draw a digit first: there is nothing to save",
    # caps per visitor (demos.quotas)
    "quota_submissions": "You have sent {count} submissions in the last 24 hours, the most this Space takes from one "
    "visitor; the next slot frees at {when}.",
    "quota_flags": "You have sent {count} flagged drawings in the last hour, the most this Space takes from one "
    "visitor; the next slot frees at {when}.",
    "quota_in_flight": "You have {count} requests running already, the most this Space runs at once for one visitor; "
    "send the next when one of them has answered (in a few seconds).",
    "endpoint_failed": "the app could not answer this request with these inputs; nothing was saved. Check each value "
    "against the endpoint's description (the app's 'Use via API' page) and try again.",
    "login_button": "Sign in with Hugging Face",
    "submit_refused": "{reason}",
    "when": "{clock} UTC (in {delay})",
    "delay_h": "{n} h",
    "delay_min": "{n} min",
    "delay_s": "{n} s",
    # pictures measured before they are decoded (demos.pictures)
    "picture_allowed": "pictures of up to {pixels:.1f} megapixels ({side} x {side}) and {mb:g} MB are read",
    "picture_megapixels": "the picture has {size:.1f} megapixels; {allowed}",
    "picture_over": "the picture has more than {size:.1f} megapixels; {allowed}",
    "picture_pixels": "the picture is {w} x {h} pixels ({size:.1f} megapixels); {allowed}",
    "picture_bytes": "the file is {mb:.1f} MB; {allowed}",
    "picture_unreadable": "that file is not a picture this app can read; send a {readable} file",
    "picture_data_url": "that data URL is not base64; send a {readable} file",
    # zoo.sketch's refusals (SketchError.code)
    "sketch_no_image": "no image: draw a digit or upload a picture of one",
    "sketch_not_image": "that is not an image; draw a digit or upload a PNG, JPEG, GIF, WebP or BMP picture",
    "sketch_shape": "an image must be H x W, H x W x 3 or H x W x 4; got shape {shape}",
    "sketch_too_small": "the image is {w}x{h}; draw on a canvas of at least 8x8 pixels",
    "sketch_too_large": "the image is {w}x{h}; the largest side allowed is {most} pixels",
    "sketch_non_finite": "the image has NaN or infinite pixels",
    "sketch_all_ink": "the canvas is almost all ink; clear it and draw one digit",
    # latent
    "latent_decoder": "Decoder",
    "latent_intro": "The book autoencoder's codes lie in [-1, 1] (Tanh outputs), so most of the cube decodes to "
    "noise; the VAE's codes follow N(0, 1) and decode to digits, blurred; the DCGAN (the book's named fix) was "
    "trained against a discriminator so that any N(0, 1) code decodes to a sharp digit.",
    "latent_random": "Random code",
    "latent_zero": "Zero",
    "latent_test_digit": "Random MNIST test digit",
    "latent_encode": "Encode my drawing",
    "latent_decoded": "**Decoded**",
    "latent_decoded_alt": "decoded digit",
    "latent_pad": "Draw a digit to encode",
    "latent_upload": "…or upload a picture to encode",
    "latent_from": "Interpolate from digit",
    "latent_to": "to digit",
    "latent_interpolation": "**Interpolation**",
    "latent_has_encoder": "`{model}` has an encoder: *Encode my drawing* computes the code in one pass.",
    "latent_searched": "`{model}` is a GAN and has no encoder: *Encode my drawing* **searches** for the code whose "
    "decoding looks most like your drawing ({steps} gradient steps), so it takes a moment and finds the nearest digit "
    "the generator can make, not your exact strokes.",
    "latent_conditional": " It is class-conditional: **z0 picks the digit** ({classes} equally likely bins of N(0, 1), "
    "0 at the bottom, 9 at the top) and the other values its style, so an interpolation walks through the digits in "
    "between.",
    "latent_bins": " It learned without labels: **z0's bin picks one of {classes} shapes** ({classes} equally likely "
    "bins of N(0, 1)) that the generator was pushed to keep apart, and which digit each bin became is its own choice, "
    "not 0 to 9 in order.",
    "latent_saw_labels": " `{model}` was trained with the digits' labels.",
    "latent_no_labels": " `{model}` never saw a label: it learned from the digits alone.",
    "latent_length": "a latent vector has {dim} values, got {got}",
    "latent_numbers": "latent values must be numbers",
    "latent_finite": "latent values must be finite numbers (no NaN or infinity)",
    "latent_range": "latent values must lie between -10 and 10",
    "latent_draw_first": "draw a digit to encode first",
    "latent_list": "code must be a list of {dim} numbers",
    # text
    "text_prompt": "Prompt (the text to continue)",
    "text_length": "Length (1 to 2,000 characters)",
    "text_temperature": "Temperature (0 = greedy, up to 2)",
    "text_top_k": "Top-k (0 = off, up to 100)",
    "text_seed": "Seed (0 to 4,294,967,295)",
    "text_go": "Generate",
    "text_out": "Generated text",
    "text_skipped": "Skipped characters outside the vocabulary: {skipped}",
    "text_prompt_long": "the prompt has {length:,} characters; at most {most:,} are allowed",
    "text_out_of_range": "{name} must be between {lo} and {hi}, got {value}",
    "text_temperature_small": "temperature must be 0 (greedy) or between {least} and 2, got {value:g}",
    "text_top_k_range": "top_k must be 0 (off) or a whole number up to 100, got {value}",
    "text_seed_range": "seed must be a whole number from 0 to {most:,}, got {value}",
    # leaderboard
    "board_intro": "Ranked per task by metrics the project recomputes on the real test sets "
    "(`python -m training evaluate --verify`); '=' marks a rank shared with the row above (their 95 % intervals "
    "overlap). Submitted models (the Submit tab) are ranked beside the zoo's: the *from* column says which. Click a "
    "column to sort, a row to read its model card.",
    "board_task": "Task",
    "board_filter": "Filter models",
    "board_filter_example": "e.g. cnn, book, char",
    "board_ranking": "Ranking",
    "board_plot": "The trade-off: primary metric against CPU latency per input",
    "board_no_card": "Select a row to read its model card.",
    "board_try": "Try it",
    "board_misses": "Its misses on the drawn set: the input, what the model saw, predicted / true",
    "board_curve": "Its training loss (per step) against epochs, from its training_log.json",
    "board_run": "training loss",
    "board_epoch_axis": "epochs of {name}",
    "board_epochs": "Per epoch: its losses and metrics as it trained",
    "board_no_curve": "No training curve was recorded for this model.",
    "board_try_model": "Try {model}",
    "col_rank": "rank",
    "col_model": "model",
    "col_book": "book",
    "col_params": "params",
    "col_cpu_ms": "CPU ms",
    "col_verified": "verified",
    "col_from": "from",
    "col_saw_labels": "saw labels",
    "board_unknown_task": "unknown task {task}; tasks: {tasks}",
    "board_unknown_model": "unknown model {name}",
    "board_submitted_note": "Submitted ({where}); evaluated by this project's code.",
    "board_no_card_shipped": "No card shipped with this model.",
    "board_sort": "Sort by",
    "board_page": "Page",
    "board_previous": "◀ Previous",
    "board_next": "Next ▶",
    "board_page_of": "Page {page:,} of {pages:,}: {total:,} models",
    # figures
    "figures_7_3": "Figure 7-3: test digits and their reconstructions",
    "figures_7_4": "Figure 7-4: t-SNE of the 10,000 test codes, coloured by label",
    "figures_7_5": "Figure 7-5: random codes through the decoder",
    # houses
    "houses_CRIM": "per-capita crime rate by town",
    "houses_ZN": "share of residential land zoned for lots over 25,000 sq. ft. (%)",
    "houses_INDUS": "share of non-retail business acres per town (%)",
    "houses_CHAS": "1 if the tract bounds the Charles River, else 0",
    "houses_NOX": "nitric oxides concentration (parts per 10 million)",
    "houses_RM": "average number of rooms per dwelling",
    "houses_AGE": "share of owner-occupied units built before 1940 (%)",
    "houses_DIS": "weighted distance to five Boston employment centres",
    "houses_RAD": "index of accessibility to radial highways",
    "houses_TAX": "full-value property-tax rate per $10,000",
    "houses_PTRATIO": "pupil-teacher ratio by town",
    "houses_B": "1000 (Bk - 0.63)^2; encodes a racist assumption, kept for the book's sake only (see the cards)",
    "houses_LSTAT": "lower-status share of the population (%)",
    "houses_model": "Model (or all)",
    "houses_predict": "Predict",
    "houses_predictions": "Predictions",
    "houses_count": "{count} features are needed ({names}), got {got}",
    "houses_finite": "{name} must be a finite number, got {value}",
    "houses_range": "{name} must lie between {lo:.4g} and {hi:.4g} (within {spread} standard deviations of the "
    "training data), got {value:g}",
    # submit
    "submit_intro": "Rank your own model beside the book's. Give a Hub model (`ORG/NAME`, optionally `@REVISION`) or "
    "upload its three files. The gates answer at once, reading only JSON, the weights' safetensors header and the card "
    "(no code of yours runs): a zoo architecture with its constructor arguments in `config.json`; `model.safetensors` "
    "with the sha256 the config declares and the shapes the config builds (at most 100 MB, finite numbers); a "
    "`README.md` with a license and at least 200 characters on how it was trained; a name of your own. Then the "
    "project's own evaluation runs (the test splits and metrics of the zoo's entries), one submission at a time, and "
    "the row appears in the Leaderboard tab. Variants of the zoo's recipes: "
    "`python -m training train RECIPE --name NEW-NAME`.",
    "submit_hub": "A Hub model: ORG/NAME or ORG/NAME@REVISION",
    "submit_files": "…or upload config.json, model.safetensors and README.md",
    "submit_name": "Name on the leaderboard (optional: config.json's name)",
    "submit_button": "Submit",
    "submit_table": "Submissions, newest first",
    "submit_upload_exactly": "upload exactly {wanted}, and training_log.json if you have one (got {got})",
    "submit_file_too_big": "{name} is {size:,} bytes; at most {most:,} bytes are taken",
    "submit_one_of_two": "give a Hub model (ORG/NAME) or upload the three files: one of the two",
    "submit_hub_name": "that Hub model name was not understood: a Hub source is hf:ORG/NAME or hf:ORG/NAME@REVISION "
    "(the hf: is optional), ORG and NAME made of letters, digits, '-', '_' and '.'",
    "submit_passed": "**{name}** passed the gates ({params:,} parameters, a {task} model). Queued for evaluation at "
    "position {position}; the table in the Submit tab follows it.",
    "submit_login_note": "Submitting (and saving a drawing) needs a Hugging Face sign-in here: your user name is "
    "recorded on each submission, at most {limit} in any {days} days.",
    "submit_user_quota": "You have submitted {used} models in the last {days} days, the most this Space takes from one "
    "user ({limit}); the next slot frees at {when} UTC.",
    "login_to_submit": "sign in with Hugging Face (the button at the top of the Submit tab) to submit a model here",
    "login_to_flag": "sign in with Hugging Face (the button above) to save a drawing here",
    "login_to_withdraw": "sign in with Hugging Face to withdraw a model you submitted; where the app has no sign-in, "
    "its operator withdraws it (python -m zoo moderate withdraw NAME --by USER)",
    "withdraw_title": "Withdraw a model you submitted",
    "withdraw_text": "Its row leaves the leaderboard; its result is kept, marked withdrawn, and its name and weights "
    "stay taken.",
    "withdraw_pick_label": "Your ranked models",
    "withdraw_button": "Withdraw",
    "withdraw_pick": "pick one of your ranked models to withdraw",
    "withdraw_done": "**{name}** is withdrawn: it is no longer on the leaderboard (its result is kept).",
    **TRAIN_EN,
}

ZH: dict[str, str] = {
    "app_intro": "# dlfs-zoo\n《深度学习：从零开始》（Weidman，2019"
    "）第 7 章的模型：训练、验证并排名。这里的每个模型都从"
    "模型库的检查点加载。",
    "app_languages": "中文 / English：页面跟随浏览器的语言；可在页面底部的 *Settings*（设置）中切换。",
    "link_button": "复制本页链接",
    "link_box": "打开此标签页及当前状态的链接",
    "link_unknown_tab": "链接中的标签页（{value}）不存在，已改为打开「数字」标签页。可用的标签页：{allowed}。",
    "link_unknown_model": "链接中的模型（{value}）不在「{task}」标签页中，已改用排名第一的模型。",
    "link_bad_code": "链接中的编码不是 {dim} 个介于 -3 和 3 之间、以逗号分隔的数，滑块已改为从零开始。",
    "link_long_prompt": "链接中的提示词有 {length:,} 个字符，链接最多携带 {most:,} 个，已改用默认提示词。",
    "link_unknown_task": "链接中的任务（{value}）不在排行榜中，已改为显示 digits。可用的任务：{allowed}。",
    "tab_digits": "数字",
    "tab_text": "文本",
    "tab_latent": "潜空间",
    "tab_leaderboard": "排行榜",
    "tab_figures": "本章插图",
    "tab_houses": "房价",
    "tab_submit": "提交",
    "unknown_model": "没有名为{said}的 {task} 模型；可选：{names}",
    "no_sample": "本应用没有附带 MNIST 样本",
    "model_ranked": "模型（按排名，最好的在前）",
    "digits_pad": "写一个数字",
    "digits_upload": "……或上传一张数字的图片",
    "digits_default": "默认模型 `{top}` 识别手写和拍摄的数字最准：基准中的手绘和手机照片，它认对 {drawn:.1f} %"
    "（每个模型的得分见「排行榜」标签页）。",
    "digits_prediction": "预测",
    "digits_second": "第二个模型",
    "digits_compared": "对比：{model}",
    "digits_seen": "**模型看到的图像**（28x28，与 MNIST 的制作方式相同）",
    "digits_seen_alt": "模型读取的 28x28 数字",
    "digits_hint": "在画布上写一个数字（0-9），边写边识别。",
    "digits_read_as": "`{model}` 认为这是 **{digit}**。",
    "digits_compare": "与之对比",
    "digits_flag_title": "模型认错了？",
    "digits_flag_text": "仅在你选择时保存：你的手写图的小副本（最大 256 像素）、模型看到的 28x28 图像以及你给出的数字，"
    "会存入本项目收集的手写数据集，用来测量各模型的表现。不保存任何关于你的信息（没有 IP 地址，没有浏览器数据）。",
    "digits_right_digit": "正确的数字",
    "digits_flag_save": "以这个数字保存我的手写图",
    "digits_flag_saved": "已保存，谢谢：一个 {right}，`{model}` 认成了 {predicted}。",
    "digits_flag_pick": "保存手写图之前，请先选择正确的数字（0-9）",
    "digits_flag_nothing": "请先写一个数字：现在没有可保存的内容",
    "quota_submissions": "你在过去 24 小时内已提交 {count} 次，这是本 Space 对每位访客的上限；"
    "下一个名额在 {when} 空出。",
    "quota_flags": "你在过去一小时内已标记 {count} 张图，这是本 Space 对每位访客的上限；下一个名额在 {when} 空出。",
    "quota_in_flight": "你已有 {count} 个请求正在运行，这是本 Space 为每位访客同时运行的上限；"
    "请等其中一个返回后再发送（几秒钟）。",
    "endpoint_failed": "应用无法用这些输入回答这个请求；没有保存任何内容。"
    "请对照接口说明（应用的“Use via API”页面）检查每个值后重试。",
    "login_button": "使用 Hugging Face 登录",
    "submit_refused": "模型未通过提交检查（检查结果为英文）：{reason}",
    "when": "{clock} UTC（{delay}后）",
    "delay_h": "{n} 小时",
    "delay_min": "{n} 分钟",
    "delay_s": "{n} 秒",
    "picture_allowed": "可读取的图片最多 {pixels:.1f} 百万像素（{side} x {side}）、{mb:g} MB",
    "picture_megapixels": "这张图片有 {size:.1f} 百万像素；{allowed}",
    "picture_over": "这张图片超过 {size:.1f} 百万像素；{allowed}",
    "picture_pixels": "这张图片为 {w} x {h} 像素（{size:.1f} 百万像素）；{allowed}",
    "picture_bytes": "文件大小为 {mb:.1f} MB；{allowed}",
    "picture_unreadable": "本应用无法读取这个文件；请发送 {readable} 图片",
    "picture_data_url": "这个 data URL 不是 base64 编码；请发送 {readable} 图片",
    "sketch_no_image": "没有图像：请写一个数字，或上传一张数字的图片",
    "sketch_not_image": "这不是图像；请写一个数字，或上传 PNG、JPEG、GIF、WebP 或 BMP 图片",
    "sketch_shape": "图像的形状必须是 H x W、H x W x 3 或 H x W x 4；收到的是 {shape}",
    "sketch_too_small": "图像为 {w}x{h}；请在至少 8x8 像素的画布上书写",
    "sketch_too_large": "图像为 {w}x{h}；最长边最多 {most} 像素",
    "sketch_non_finite": "图像含有 NaN 或无穷大的像素",
    "sketch_all_ink": "画布几乎全是墨迹；请清空后只写一个数字",
    "latent_decoder": "解码器",
    "latent_intro": "书中自编码器的编码位于 [-1, 1]（Tanh 的输出），因此这个立方体的大部分解码出来都是噪声；VAE 的编码"
    "服从 N(0, 1)，解码出来是数字，但较模糊；DCGAN（书中点名的改进方法）与判别器对抗训练，任何 N(0, 1) 的编码都能"
    "解码成清晰的数字。",
    "latent_random": "随机编码",
    "latent_zero": "归零",
    "latent_test_digit": "随机 MNIST 测试数字",
    "latent_encode": "编码我的手写图",
    "latent_decoded": "**解码结果**",
    "latent_decoded_alt": "解码出的数字",
    "latent_pad": "写一个数字来编码",
    "latent_upload": "……或上传一张图片来编码",
    "latent_from": "插值起点数字",
    "latent_to": "终点数字",
    "latent_interpolation": "**插值**",
    "latent_has_encoder": "`{model}` 有编码器：*编码我的手写图* 一次前向计算就得到编码。",
    "latent_searched": "`{model}` 是 GAN，没有编码器：*编码我的手写图* 会**搜索**一个编码，使其解码结果最像你的手写图"
    "（{steps} 步梯度下降），所以要稍等片刻，得到的是生成器能画出的最接近的数字，而不是你的笔画本身。",
    "latent_conditional": "它是类别条件模型：**z0 决定数字**（把 N(0, 1) 分"
    "成 {classes} 个等概率区间，0 在最下，9 在最上），"
    "其余的值决定书写风格，所以插值会经过中间的数字。",
    "latent_bins": "它在没有标签的情况下学习：**z0 所在的区间决定 {classes} 种形状之一**（N(0, 1) 的 {classes} 个"
    "等概率区间），训练促使生成器让这些形状彼此不同；每个区间成为哪个数字由它自己决定，并不是按 0 到 9 的顺序。",
    "latent_saw_labels": "`{model}` 训练时用到了数字的标签。",
    "latent_no_labels": "`{model}` 从未见过标签：它只从数字图像本身学习。",
    "latent_length": "潜向量应有 {dim} 个值，收到 {got} 个",
    "latent_numbers": "潜向量的值必须是数",
    "latent_finite": "潜向量的值必须是有限的数（不能是 NaN 或无穷大）",
    "latent_range": "潜向量的值必须介于 -10 和 10 之间",
    "latent_draw_first": "请先写一个要编码的数字",
    "latent_list": "code 必须是由 {dim} 个数组成的列表",
    "text_prompt": "提示词（要续写的文本）",
    "text_length": "长度（1 到 2,000 个字符）",
    "text_temperature": "温度（0 = 贪心，最高 2）",
    "text_top_k": "Top-k（0 = 关闭，最高 100）",
    "text_seed": "随机种子（0 到 4,294,967,295）",
    "text_go": "生成",
    "text_out": "生成的文本",
    "text_skipped": "跳过了词表之外的字符：{skipped}",
    "text_prompt_long": "提示词有 {length:,} 个字符，最多允许 {most:,} 个",
    "text_out_of_range": "{name} 必须介于 {lo} 和 {hi} 之间，收到 {value}",
    "text_temperature_small": "temperature 必须为 0（贪心）或介于 {least} 和 2 之间，收到 {value:g}",
    "text_top_k_range": "top_k 必须为 0（关闭）或不超过 100 的整数，收到 {value}",
    "text_seed_range": "seed 必须是 0 到 {most:,} 之间的整数，收到 {value}",
    "board_intro": "每个任务按本项目在真实测试集上重新计算的指标排名（`python -m training evaluate --verify`）；"
    "'=' 表示与上一行名次相同（两者的 95 % 置信区间重叠）。提交的模型（「提交」标签页）与模型库自带的模型一起排名，"
    "*from* 列注明来源。点击列标题排序，点击一行阅读其模型卡片。",
    "board_task": "任务",
    "board_filter": "筛选模型",
    "board_filter_example": "例如 cnn、book、char",
    "board_ranking": "排名",
    "board_plot": "权衡：主要指标与每个输入的 CPU 延迟",
    "board_no_card": "选择一行以阅读其模型卡片。",
    "board_try": "试一试",
    "board_misses": "它在手写测试集上的错误：输入、模型看到的图像、预测 / 真实",
    "board_curve": "它的训练损失（每步）随轮次的变化，来自其 training_log.json",
    "board_run": "训练损失",
    "board_epoch_axis": "{name} 的训练轮次",
    "board_epochs": "每轮：训练过程中的损失和指标",
    "board_no_curve": "这个模型没有记录训练曲线。",
    "board_try_model": "试一试 {model}",
    "col_rank": "名次",
    "col_model": "模型",
    "col_book": "书中数值",
    "col_params": "参数量",
    "col_cpu_ms": "CPU 毫秒",
    "col_verified": "已核验",
    "col_from": "来源",
    "col_saw_labels": "用过标签",
    "board_unknown_task": "未知任务 {task}；可用的任务：{tasks}",
    "board_unknown_model": "未知模型 {name}",
    "board_submitted_note": "由他人提交（{where}）；由本项目的代码评估。",
    "board_no_card_shipped": "这个模型没有附带模型卡片。",
    "board_sort": "排序依据",
    "board_page": "页码",
    "board_previous": "◀ 上一页",
    "board_next": "下一页 ▶",
    "board_page_of": "第 {page:,} 页，共 {pages:,} 页：{total:,} 个模型",
    "figures_7_3": "图 7-3：测试数字及其重建",
    "figures_7_4": "图 7-4：10,000 个测试编码的 t-SNE，按标签着色",
    "figures_7_5": "图 7-5：随机编码经过解码器",
    "houses_CRIM": "城镇人均犯罪率",
    "houses_ZN": "划为 25,000 平方英尺以上地块的住宅用地比例（%）",
    "houses_INDUS": "城镇非零售商业用地比例（%）",
    "houses_CHAS": "该区域临查尔斯河则为 1，否则为 0",
    "houses_NOX": "一氧化氮浓度（千万分之一）",
    "houses_RM": "每套住宅的平均房间数",
    "houses_AGE": "1940 年以前建成的自住单元比例（%）",
    "houses_DIS": "到波士顿五个就业中心的加权距离",
    "houses_RAD": "到放射状公路的可达性指数",
    "houses_TAX": "每 10,000 美元的全额房产税率",
    "houses_PTRATIO": "城镇师生比",
    "houses_B": "1000 (Bk - 0.63)^2；含有种族主义的假设，仅因书中使用而保留（见模型卡片）",
    "houses_LSTAT": "低收入人口比例（%）",
    "houses_model": "模型（或全部）",
    "houses_predict": "预测",
    "houses_predictions": "预测结果",
    "houses_count": "需要 {count} 个特征（{names}），收到 {got} 个",
    "houses_finite": "{name} 必须是有限的数，收到 {value}",
    "houses_range": "{name} 必须介于 {lo:.4g} 和 {hi:.4g} 之间（训练数据的 {spread} 个标准差以内），收到 {value:g}",
    "submit_intro": "让你自己的模型与书中的模型一起排名。给出一个 Hub 模型（`ORG/NAME`，可加 `@REVISION`），或上传它的"
    "三个文件。关卡会立即给出答复，只读取 JSON、权重的 safetensors "
    "文件头和模型卡片（不运行你的任何代码）：`config.json` "
    "中是模型库的某个架构及其构造参数；`model.safetensors` 的 sha256 "
    "与配置声明的一致，形状与配置构建的一致（最大 100 MB，"
    "数值有限）；`README.md` 带有许可证，并用至少 200 个字符说明训练方法；一个你自己的名字。然后运行本项目自己的评估"
    "（与模型库条目相同的测试集划分和指标），一次评估一个提交，结果出现在「排行榜」标签页。基于模型库配方的变体："
    "`python -m training train RECIPE --name NEW-NAME`。",
    "submit_hub": "Hub 模型：ORG/NAME 或 ORG/NAME@REVISION",
    "submit_files": "……或上传 config.json、model.safetensors 和 README.md",
    "submit_name": "排行榜上的名字（可选：默认为 config.json 中的 name）",
    "submit_button": "提交",
    "submit_table": "提交记录，最新的在前",
    "submit_upload_exactly": "请恰好上传 {wanted}，如有 training_log.json 也可一并上传（收到 {got}）",
    "submit_file_too_big": "{name} 有 {size:,} 字节；最多接受 {most:,} 字节",
    "submit_one_of_two": "请给出一个 Hub 模型（ORG/NAME）或上传三个文件：二者选一",
    "submit_hub_name": "无法识别这个 Hub 模型名：Hub 来源的格式是 hf:ORG/NAME 或 hf:ORG/NAME@REVISION（hf: 可省略），"
    "ORG 和 NAME 由字母、数字、'-'、'_' 和 '.' 组成",
    "submit_passed": "**{name}** 通过了关卡（{params:,} 个参数，{task} "
    "模型）。已排入评估队列第 {position} 位；“提交”页的表格会跟踪它的进度。",
    "submit_login_note": "在这里提交模型（以及保存手写图）需要先用 Hugging Face 登录：每次提交都会记录你的用户名，"
    "任意 {days} 天内最多 {limit} 次。",
    "submit_user_quota": "你在最近 {days} 天里已提交 {used} 个模型，达到本 Space 对每位用户的上限（{limit} 个）；"
    "下一个名额在 UTC {when} 空出。",
    "login_to_submit": "请先用 Hugging Face 登录（提交页顶部的按钮），再在这里提交模型",
    "login_to_flag": "请先用 Hugging Face 登录（上方的按钮），再在这里保存手写图",
    "login_to_withdraw": "请先用 Hugging Face 登录，才能撤回你提交的模型；在没有登录功能的应用上，"
    "由运营者撤回（python -m zoo moderate withdraw NAME --by USER）",
    "withdraw_title": "撤回你提交的模型",
    "withdraw_text": "它的行会从排行榜上移除；结果会保留并标记为已撤回，它的名字和权重仍被占用。",
    "withdraw_pick_label": "你已上榜的模型",
    "withdraw_button": "撤回",
    "withdraw_pick": "请选择一个你已上榜的模型再撤回",
    "withdraw_done": "**{name}** 已撤回：它不再出现在排行榜上（结果已保留）。",
    **TRAIN_ZH,
}

SUMMARIES_ZH: dict[str, str] = {  # zoo.catalog's summaries, in Chinese, by entry name
    "house-prices-book": "书中正文的多层感知机：13 -> 13 Sigmoid -> 1，SGD，100 个轮次。",
    "house-prices-notebook": "书中配套笔记本的多层感知机：13 -> 13 Tanh（保留概率 0.8）-> 1，SGD，100 个轮次。",
    "house-prices-linear-regression": "在同一数据划分上训练的 scikit-learn LinearRegression，系数存为 safetensors。",
    "house-prices-random-forest": "在同一数据划分上训练的 scikit-learn RandomForestRegressor，决策树存为 safetensors。",
    "mnist-convnet-book": "书中的卷积神经网络（16/8 个通道，Tanh，保留概率 0.8），SGD 训练一个轮次。",
    "mnist-convnet-notebook": "配套笔记本中的卷积神经网络（14/7 个通道），SGD 训练一个轮次。",
    "mnist-mlp": "第 4 章的多层感知机（784 -> 89 Tanh -> 10），用 PyTorch 实现。",
    "mnist-cnn-modern": "一个现代的小型卷积神经网络（卷积-批归一化-ReLU、最大池化、dropout），用 AdamW + OneCycle 训练"
    "几个轮次。",
    "mnist-cnn-robust": "为人们手写的数字训练的现代卷积神经网络：MNIST 加上印刷字体的数字以及欧陆写法的 1 和 7（带钩、"
    "带横），以及把这些字形画成人们实际发来的样子（紧贴边缘的裁剪、缩略图、横线纸和方格纸、表格方框、黑板粉笔）"
    "再经应用自己的预处理读出的图像；并用形变、笔画粗细、模糊、分辨率损失、光照不均、噪声和杂物做数据增强；"
    "每个输入都拉伸到其取值范围。",
    "char-lstm-book": "书中预测下一个字符的 LSTM（隐藏层大小等于词表大小），Adam 训练一个轮次。",
    "char-lstm-256": "带字符嵌入的 256 单元 LSTM。",
    "char-gru-2layer": "带字符嵌入的两层 256 单元 GRU。",
    "char-transformer": "字符级的小型 GPT（3 个前置归一化的因果自注意力块，宽 96，上下文 128 个字符），AdamW 加预热和"
    "余弦衰减，生成时使用键/值缓存。",
    "char-transformer-large": "更深、上下文加倍的字符级 Transformer（6 个块，"
    "宽 192，256 个字符），在 GPU 上训练 30 遍。",
    "autoencoder-book": "书中的卷积自编码器，28 维 Tanh 编码，SGD 训练一个轮次。",
    "vae-28": "使用书中各层、28 维 N(0, I) 潜空间的变分自编码器。",
    "dcgan-28": "第 7 章点名的改进方法：DCGAN 生成器（28 维 N(0, I) 编"
    "码 -> 7x7 -> 14x14 -> 28x28 转置卷积，批归一化），"
    "与卷积判别器对抗训练，类别条件：编码的第一个坐标决定数字（N(0, 1) "
    "的十个等概率区间）。没有编码器：编码靠搜索得到。",
    "dcgan-28-unconditional": "第 7 章所要的解码器，像自编码器一样在没有标签的情况下学成：与 `dcgan-28` 相同的生成器"
    "和判别器，但从未见过任何数字的标签。编码的第一个坐标仍落在十个区间之一，却没有人告诉它哪个区间是哪个数字："
    "判别器要猜出每张生成图来自哪个区间（InfoGAN），于是生成器让每个区间各有自己的形状。没有编码器：编码靠搜索得到。",
}
