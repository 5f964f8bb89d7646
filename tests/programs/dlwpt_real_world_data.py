"""Deep Learning with PyTorch (Stevens, Antiga, Viehmann), chapter 4, "Real-world data
representation using tensors", on small stand-ins for the book's files: the wine-quality
table read by ``np.loadtxt(dtype=np.float32, delimiter=";", skiprows=1)`` and
``torch.from_numpy`` (which shares memory), the score as a ``long`` target and as a one-hot
by ``scatter_(1, target.unsqueeze(1), 1.0)``, normalisation by ``torch.mean``/``torch.var``
over rows, boolean-mask selection of bad, mid and good wines (``(target > 3) & (target < 7)``)
and the sulfur-threshold predictor (``torch.lt``, matches over predictions); the bike-sharing
hours (a date column through a ``converters=`` lambda) reshaped into days with
``view(-1, 24, bikes.shape[1])``, its strides, ``transpose(1, 2)``, the weather one-hot by
``scatter_`` along a middle dim with an index minus one, ``torch.cat`` on channels, and the
temperature rescaled through the ``temp`` view that aliases ``daily_bikes``; and a text line
encoded one-hot per character (``ord``) and per word from a cleaned vocabulary."""

import csv
import io

import numpy as np
import torch

rng = np.random.default_rng(0)
header = "fixed acidity;volatile acidity;citric acid;residual sugar;chlorides;free sulfur dioxide;total sulfur dioxide;density;pH;sulphates;alcohol;quality"
quality = rng.integers(3, 10, size=40)
features = rng.normal(size=(40, 11)) + quality[:, None] * 0.1
features[:, 6] = 180.0 - 12.0 * quality + rng.normal(scale=15.0, size=40)
rows = [";".join(f"{v:.4f}" for v in row) + f";{q}" for row, q in zip(features, quality)]
wine_file = header + "\n" + "\n".join(rows) + "\n"

wineq_numpy = np.loadtxt(io.StringIO(wine_file), dtype=np.float32, delimiter=";", skiprows=1)
col_list = next(csv.reader(io.StringIO(wine_file), delimiter=";"))
wineq = torch.from_numpy(wineq_numpy)
wine_shape, wine_dtype = tuple(wineq.shape), str(wineq.dtype)
wineq_numpy[0, 0] = 7.0  # from_numpy shares the array's memory
shared_memory = wineq[0, 0].item()

data = wineq[:, :-1]  # Selects all rows and all columns except the last
target = wineq[:, -1]  # Selects all rows and the last column
target = wineq[:, -1].long()
target_onehot = torch.zeros(target.shape[0], 10)
target_onehot.scatter_(1, target.unsqueeze(1), 1.0)
onehot_rows = target_onehot[:3].tolist()

data_mean = torch.mean(data, dim=0)
data_var = torch.var(data, dim=0)
data_normalized = (data - data_mean) / torch.sqrt(data_var)
normalized_std = data_normalized.std(dim=0)[:4].tolist()

bad_indexes = target <= 3
bad_info = (tuple(bad_indexes.shape), str(bad_indexes.dtype), bad_indexes.sum().item())
bad_data = data[bad_indexes]
bad_data = data[target <= 3]
mid_data = data[(target > 3) & (target < 7)]
good_data = data[target >= 7]
bad_mean = torch.mean(bad_data, dim=0)
mid_mean = torch.mean(mid_data, dim=0)
good_mean = torch.mean(good_data, dim=0)
group_means = [
    (i, args[0], args[1].item(), args[2].item(), args[3].item())
    for i, args in enumerate(zip(col_list, bad_mean, mid_mean, good_mean))
    if i in (6, 10)
]

total_sulfur_threshold = 141.83
total_sulfur_data = data[:, 6]
predicted_indexes = torch.lt(total_sulfur_data, total_sulfur_threshold)
actual_indexes = target > 5
n_matches = torch.sum(actual_indexes & predicted_indexes).item()
n_predicted = torch.sum(predicted_indexes).item()
n_actual = torch.sum(actual_indexes).item()
sulfur_scores = (n_matches, n_matches / n_predicted, n_matches / n_actual)

# --- bike sharing: 3 days of hourly records, the date read by a converter
lines = [
    "instant,dteday,season,yr,mnth,hr,holiday,weekday,workingday,weathersit,temp,atemp,hum,windspeed,casual,registered,cnt"
]
for i in range(72):
    day, hr = i // 24 + 1, i % 24
    weather = int(rng.integers(1, 5))
    temp = 0.3 + 0.01 * hr + rng.normal(scale=0.05)
    cnt = int(20 + 10 * hr - weather * 5)
    lines.append(
        f"{i + 1},2011-01-{day:02d},1,0,1,{hr},0,6,0,{weather},{temp:.2f},0.29,0.81,0.0,3,13,{cnt}"
    )
bikes_numpy = np.loadtxt(
    io.StringIO("\n".join(lines)), dtype=np.float32, delimiter=",", skiprows=1,
    converters={1: lambda x: float(x[8:10])},
)  # fmt: skip
bikes = torch.from_numpy(bikes_numpy)
bikes_layout = (tuple(bikes.shape), bikes.stride())
daily_bikes = bikes.view(-1, 24, bikes.shape[1])
daily_layout = (tuple(daily_bikes.shape), daily_bikes.stride())
daily_bikes = daily_bikes.transpose(1, 2)
transposed_layout = (tuple(daily_bikes.shape), daily_bikes.stride(), daily_bikes.is_contiguous())

first_day = bikes[:24].long()
weather_onehot = torch.zeros(first_day.shape[0], 4)
weather_onehot.scatter_(dim=1, index=first_day[:, 9].unsqueeze(1).long() - 1, value=1.0)
first_row = torch.cat((bikes[:24], weather_onehot), 1)[:1].tolist()

daily_weather_onehot = torch.zeros(daily_bikes.shape[0], 4, daily_bikes.shape[2])
daily_weather_onehot.scatter_(1, daily_bikes[:, 9, :].long().unsqueeze(1) - 1, 1.0)
daily_bikes = torch.cat((daily_bikes, daily_weather_onehot), dim=1)
daily_bikes[:, 9, :] = (daily_bikes[:, 9, :] - 1.0) / 3.0
temp = daily_bikes[:, 10, :]
temp_min = torch.min(temp)
temp_max = torch.max(temp)
daily_bikes[:, 10, :] = (daily_bikes[:, 10, :] - temp_min) / (temp_max - temp_min)
temp_range = (temp.min().item(), temp.max().item())  # temp is a view: it sees the rescaling
temp_mean = torch.mean(temp)
temp_std = torch.std(temp)
daily_bikes[:, 10, :] = (daily_bikes[:, 10, :] - temp_mean) / temp_std
daily_final = (tuple(daily_bikes.shape), daily_bikes[0, 9:, :3].tolist(), temp.std().item())
weather_counts = daily_weather_onehot.sum(dim=(0, 2)).tolist()

# --- text: one-hot characters and words
text = "Pride and Prejudice\n“Impossible, Mr. Bennet, impossible, when I am not acquainted with him myself; how can you be so teasing?”\nIt is a truth universally acknowledged."
lines = text.split("\n")
line = lines[1]
letter_t = torch.zeros(len(line), 128)  # 128 hardcoded due to the limits of ASCII
for i, letter in enumerate(line.lower().strip()):
    letter_index = ord(letter) if ord(letter) < 128 else 0  # text uses directional double quotes
    letter_t[i][letter_index] = 1
letter_summary = (tuple(letter_t.shape), letter_t.sum().item(), letter_t[:, 0].sum().item())


def clean_words(input_str):
    punctuation = '.,;:"!?”“_-'
    word_list = input_str.lower().replace("\n", " ").split()
    word_list = [word.strip(punctuation) for word in word_list]
    return word_list


words_in_line = clean_words(line)
word_list = sorted(set(clean_words(text)))
word2index_dict = {word: i for (i, word) in enumerate(word_list)}
word_t = torch.zeros(len(words_in_line), len(word2index_dict))
for i, word in enumerate(words_in_line):
    word_index = word2index_dict[word]
    word_t[i][word_index] = 1
word_indices = word_t.argmax(dim=1).tolist()
word_shape = tuple(word_t.shape)
