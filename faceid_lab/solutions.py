"""The reference solutions of every exercise, one function per exercise.

Generated from the reference notebooks' `solution` cells by `faceid-lab exercises build`: edit the
notebook, not this file (`faceid-lab exercises check` fails when it is stale). A student notebook's
check cell (`exercises.checked`) falls back to these when the learner's version does not pass yet,
so a skipped exercise never stops the cells after it.
"""

import torch
import torch.nn.functional as F
from torch import nn

from faceid_lab.data import synthetic as S
from faceid_lab.models.autoencoder import Decoder, Encoder


# 00_setup_and_data, cell 17
def ground_truth_swap(seed, identity_b, identity_a, image_a, resolution=64):
    """Person B with the pose, expression, light and background of photo `image_a` of A."""
    identity = S.sample_identities(seed, [identity_b])
    nuisance = S.sample_nuisance(seed, [identity_a], [image_a])
    return S.render(identity, nuisance, resolution).image[0]


# 01_deepfake_autoencoder, cell 9
def warp_input(images, strength, generator):
    """images (B, C, H, W) bent by a smooth random field: the network's input."""
    b, _, h, w = images.shape
    offsets = torch.randn(b, 2, 5, 5, generator=generator) * strength                # control points
    field = F.interpolate(offsets, size=(h, w), mode="bicubic", align_corners=True)  # (B, 2, H, W)
    identity = F.affine_grid(torch.eye(2, 3).expand(b, 2, 3), (b, 1, h, w), align_corners=False)
    grid = identity + field.permute(0, 2, 3, 1)                                      # (B, H, W, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


# 01_deepfake_autoencoder, cell 15
class OneEncoderTwoDecoders(nn.Module):
    """The 1.5-autoencoder: forward(x, person) -> (face, mask) painted as "A" or "B"; swap(x) -> as B."""

    def __init__(self, width, resolution, mask=True):
        super().__init__()
        self.resolution = resolution                       # the side of the crops it reads and paints
        self.encoder = Encoder(width, resolution)
        self.decoders = nn.ModuleDict({"A": Decoder(width, mask), "B": Decoder(width, mask)})

    def forward(self, x, person):
        return self.decoders[person](self.encoder(x))

    def swap(self, x):
        return self(x, "B")


# 01_deepfake_autoencoder, cell 21
@torch.no_grad()
def swap_and_paste(model, frames, frame_masks):
    """A's crops (M, 3, R, R) with B's face pasted where either head is."""
    face_b, mask_b = model.decoders["B"](model.encoder(frames))
    m = torch.maximum(mask_b, frame_masks)
    return m * face_b + (1 - m) * frames


# 02_identity_features, cell 7
def identity_training_step(net, opt, images, labels):
    """One step of N-class training; returns the loss (float)."""
    logits = net.logits(net.features(images), labels)
    loss = F.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


# 02_identity_features, cell 14
def cosine_similarity(a, b):
    """(N, D), (M, D) -> (N, M) cosine similarities."""
    unit_a = torch.nn.functional.normalize(a, dim=1)
    unit_b = torch.nn.functional.normalize(b, dim=1)
    return unit_a @ unit_b.T


# 02_identity_features, cell 14
def verification_auc(features, labels):
    """ROC AUC over all pairs i < j: the share of (genuine, impostor) pairs ranked correctly, ties half."""
    sim = cosine_similarity(features, features)
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    scores, same = sim[i, j], labels[i] == labels[j]
    genuine, impostor = scores[same], scores[~same].sort().values
    below = torch.searchsorted(impostor, genuine, side="left")          # impostors ranked under each genuine pair
    ties = torch.searchsorted(impostor, genuine, side="right") - below
    wins = below.double().sum() + 0.5 * ties.double().sum()
    return (wins / (len(genuine) * len(impostor))).item()


# 03_pose_guided_gan, cell 16
class GuidedUpBlock(nn.Module):
    """(B, c_in, H, W), condition (B, cond_dim), guide (B, g, R, R) or None -> (B, c_out, 2H, 2W)."""

    def __init__(self, c_in, c_out, cond_dim, guide_channels=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in + guide_channels, c_out, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)
        self.film = nn.Linear(cond_dim, 2 * c_out)   # a scale and a shift per output channel
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x, cond, guide=None):
        x = F.interpolate(x, scale_factor=2, mode="nearest")                      # (B, c_in, 2H, 2W)
        if guide is not None:
            guide = F.interpolate(guide, size=tuple(x.shape[-2:]), mode="area")    # (B, g, 2H, 2W)
            x = torch.cat([x, guide], dim=1)                                       # (B, c_in + g, 2H, 2W)
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)          # (B, c_out, 1, 1) each
        return self.act(self.bn(self.conv(x)) * (1 + scale) + shift)


# 03_pose_guided_gan, cell 20
def began_d_loss(D, real, fake, k, gamma, lambda_k):
    """BEGAN's D side of one step: (R(real) - k R(fake), new k clipped to [0, 1], convergence measure M)."""
    r_real = (real - D(real)).abs().mean()                      # R(x)
    fake = fake.detach()                                        # D's loss stays out of G
    r_fake = (fake - D(fake)).abs().mean()                      # R(x_hat)
    loss_d = r_real - k * r_fake
    balance = (gamma * r_real - r_fake).detach()                # > 0: D rebuilds G's faces too well
    new_k = torch.clamp(k + lambda_k * balance, 0.0, 1.0)
    return loss_d, new_k, r_real.detach() + balance.abs()


# 04_gdc_n_class, cell 9
def n_class_c_loss(C, real, real_labels, fake, fake_labels, synth_weight):
    """C's loss: cross-entropy on real faces + synth_weight * cross-entropy on G's faces (a scalar tensor)."""
    logits_real = C.logits(C(real))                             # (B1, N)
    logits_fake = C.logits(C(fake.detach()))                    # (B2, N)
    loss_real = F.cross_entropy(logits_real, real_labels)
    loss_fake = F.cross_entropy(logits_fake, fake_labels)
    return loss_real + synth_weight * loss_fake


# 04_gdc_n_class, cell 12
def identity_loss(C, sources, outputs):
    """Mean of 1 - cos(C(sources), C(outputs)); gradients only through the outputs."""
    with torch.no_grad():
        f_source = C(sources)                                   # (B, 256) the target
    f_output = C(outputs)                                       # (B, 256) moves with G
    similarity = F.cosine_similarity(f_source, f_output, dim=1)  # (B,)
    return (1 - similarity).mean()


# 05_two_n_classifier, cell 10
def two_n_labels(labels, synthesized, num_identities):
    """labels (B,) person index; synthesized (B,) bool -> (B,) long class in 0 .. 2N - 1."""
    return labels + num_identities * synthesized.long()


# 05_two_n_classifier, cell 13
def classifier_loss(logits_real, labels_real, logits_fake, labels_fake, synth_weight):
    """Cross-entropy on real faces + synth_weight * cross-entropy on synthesized faces (a scalar tensor)."""
    return F.cross_entropy(logits_real, labels_real) + synth_weight * F.cross_entropy(logits_fake, labels_fake)


# 06_faceid_gan, cell 6
def faceid_step(p, sources, real, labels, f_pose, z, synth_weight):
    """One step of the 2N game: D, then C, then G, then k. Returns {"D", "C", "G"}: each player's loss."""
    cfg, B, N = p.cfg, len(labels), p.num_identities
    seen_sources, seen_real = p.c_sees(sources), p.c_sees(real)     # what C (and P) see: softened faces
    with torch.no_grad():
        f_id = p.id_encoder.features(seen_sources)                  # (B, 256) C's feature: information symmetry
    fake = p.G(f_id, f_pose, z)                                     # (B, 3, R, R)
    seen_fake = p.c_sees(fake)
    # 1. D rebuilds real faces and pushes G's away by k; G's faces detached, so D's loss stays out of G
    both = torch.cat([real, fake.detach()])                         # (2B, 3, R, R)
    errors = (both - p.D(both)).abs().flatten(1).mean(1)            # (2B,) R(x) per face
    r_real = errors[:B].mean()
    loss_d = r_real - p.balance.k * errors[B:].mean()
    p.opt_d.zero_grad()
    loss_d.backward()
    p.opt_d.step()
    # 2. C names real faces i and G's faces N + i (the 2N labels), on detached faces
    logits = p.C.logits(p.C(torch.cat([seen_real, seen_sources, seen_fake.detach()])))  # (3B, 2N)
    loss_c = (F.cross_entropy(logits[:2 * B], torch.cat([labels, labels]))
              + synth_weight * F.cross_entropy(logits[2 * B:], labels + N))
    p.opt_c.zero_grad()
    loss_c.backward()
    p.opt_c.step()
    # 3. G plays against the updated D and C, which are frozen: G's loss moves G only
    p.D.requires_grad_(False)
    p.C.requires_grad_(False)
    r_fake = p.D.recon_error(fake).mean()
    pose_err = (p.pose_net(seen_fake) / p.pose_scale - f_pose).abs().mean()
    id_err = (1 - F.cosine_similarity(f_id, p.C(seen_fake), dim=1)).mean()
    loss_g = (cfg.recon_weight * (fake - real).abs().mean() + cfg.adv_weight * r_fake
              + cfg.pose_weight * pose_err + cfg.id_weight * id_err)
    p.opt_g.zero_grad()
    loss_g.backward()
    p.opt_g.step()
    p.D.requires_grad_(True)
    p.C.requires_grad_(True)
    # 4. BEGAN's balance, clipped to [0, 1]
    k = p.balance.k + cfg.lambda_k * (cfg.gamma * r_real.detach() - r_fake.detach())
    p.balance.k.copy_(k.clamp(0.0, 1.0))
    return {"D": loss_d.detach(), "C": loss_c.detach(), "G": loss_g.detach()}


# 07_umap_identity_clusters, cell 15
def centroid_distances(features, labels, synthesized):
    """features (M, D), labels (M,) person 0 .. P-1, synthesized (M,) bool -> (P,) distances."""
    distances = []
    for person in range(int(labels.max()) + 1):
        mine = labels == person
        synthesized_centre = features[mine & synthesized].mean(0)      # (D,)
        real_centre = features[mine & ~synthesized].mean(0)            # (D,)
        distances.append((synthesized_centre - real_centre).norm())
    return torch.stack(distances)


# 08_frontalization, cell 8
@torch.no_grad()
def frontalize(G, encoder, photos, frontal, z):
    """G's face (M, 3, R, R) of every photo's person in the frontal, neutral pose."""
    f_id = encoder(photos)                                      # (M, 256) who
    f_pose = frontal.expand(len(photos), -1)                    # (M, 7) the same pose for everybody
    return G(f_id, f_pose, z)


# 09_detection_and_responsible_use, cell 7
def synthesized_score(logits, num_identities):
    """(B, 2N) logits of a 2N-class C -> (B,) log P(any synthesized class) - log P(any real class)."""
    log_p = logits.log_softmax(dim=1)                           # (B, 2N)
    log_real = log_p[:, :num_identities].logsumexp(dim=1)       # (B,) log P(real)
    log_synthesized = log_p[:, num_identities:].logsumexp(dim=1)
    return log_synthesized - log_real
